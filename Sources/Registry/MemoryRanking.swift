import Foundation

/// The best memories of a search, found by reading matching chunks best-first and stopping as soon
/// as no chunk not yet read could change the answer: an exact top-k over every match, not a guess
/// over the first few hundred.
///
/// Scores, as `MemorySearch` weighs them: a memory's rank is its best chunk's bm25 (doubled for a
/// chunk holding the exact phrase), relevance is that rank over the best rank among the visible
/// memories (so the best is 1), and `score = wr·relevance + wi·importance + wt·recency`, where
/// importance (a CHECK constraint keeps it in 0...1) and recency (`0.5^(age/half-life)`) are at most 1.
///
/// Chunks arrive in rank order (most negative first). After a chunk of rank `r`, an unread chunk
/// ranks no better than `u = r`, or `2r` while phrase chunks remain unread. The answer is final
/// when no unread chunk can become the best rank (`best ≤ u`, so relevances stay as they are) and
/// `limit` memories score more than an unread chunk could give any memory: `wr·min(1, u/best) + wi + wt`.
struct MemoryRanking {
    struct Entry {
        var memory: Int64
        var chunk: Int64
        var rank: Double
        var importance: Double
        var createdAt: Double
        /// Importance and recency, weighed (the part of the score that does not depend on other memories).
        var prior = 0.0
    }
    struct Scored {
        var entry: Entry
        var relevance: Double
        var score: Double
    }

    let search: MemorySearch
    private var entries: [Int64: Entry] = [:]
    private var best = 0.0
    private var phraseChunksUnread: Int
    private var bound = 0.0

    init(_ search: MemorySearch, phraseChunks: Int) {
        self.search = search
        phraseChunksUnread = phraseChunks
    }

    /// A chunk read, visible or not (`isPhrase`: it holds the exact phrase): moves the bound on unread ones.
    mutating func read(rank: Double, isPhrase: Bool) {
        if isPhrase { phraseChunksUnread -= 1 }
        bound = phraseChunksUnread > 0 ? 2 * rank : rank
    }

    /// A visible chunk of `memory`, with its rank already doubled when it holds the phrase.
    mutating func add(_ entry: Entry) {
        if let known = entries[entry.memory], known.rank <= entry.rank { return }
        var entry = entry
        entry.prior = search.importanceWeight * entry.importance + search.recencyWeight * recency(entry)
        entries[entry.memory] = entry
        best = entries.count == 1 ? entry.rank : min(best, entry.rank)
    }

    /// Whether no unread chunk can change the answer. Once `limit` memories score above the most an
    /// unread chunk could give any memory, none can enter the answer or move in it (a memory scoring
    /// that much already ranks at least as well as any unread chunk). O(memories read); the search
    /// asks after each batch of chunks it reads.
    func settled() -> Bool {
        guard entries.count >= search.limit, best <= bound else { return false }
        let unreadRelevance = best == 0 ? 1 : min(1, bound / best)
        let most = search.relevanceWeight * unreadRelevance + max(0, search.importanceWeight) + max(0, search.recencyWeight) + 1e-9
        var above = 0
        for entry in entries.values where search.relevanceWeight * relevance(entry) + entry.prior > most {
            above += 1
            if above == search.limit { return true }
        }
        return false
    }

    /// The best `limit` memories read so far, best first (ties: the newer id first).
    func answer() -> [Scored] {
        let scored = entries.values.map { entry -> Scored in
            let relevance = relevance(entry)
            return Scored(entry: entry, relevance: relevance, score: score(relevance, entry))
        }
        return Array(scored.sorted { $0.score != $1.score ? $0.score > $1.score : $0.entry.memory > $1.entry.memory }.prefix(search.limit))
    }

    private func relevance(_ entry: Entry) -> Double { best == 0 ? 1.0 : entry.rank / best }

    private func recency(_ entry: Entry) -> Double { pow(0.5, max(0, search.now - entry.createdAt) / max(search.recencyHalfLife, 1)) }

    /// The score exactly as the SQL that defined it summed it (the same order of additions).
    private func score(_ relevance: Double, _ entry: Entry) -> Double {
        search.relevanceWeight * relevance + search.importanceWeight * entry.importance + search.recencyWeight * recency(entry)
    }
}
