/// Filters and a page for listing or searching skills; everything here is applied in SQL.
public struct SkillQuery: Sendable, Equatable {
    /// Full-text query (words; the last one matches as a prefix). Nil lists instead of searching.
    public var text: String?
    public var source: String?
    /// Include skills that lost their name to an earlier source.
    public var includeShadowed = false
    /// Include skills that are not loadable.
    public var includeUnloadable = false
    /// Include tombstoned skills.
    public var includeDeleted = false
    public var limit = 50
    public var offset = 0
    /// Leave each hit's `body` empty (a listing that shows no instructions reads far less).
    public var withoutBody = false

    /// The columns of `skills` as a hit reads them (`s.` prefixed); the body left empty when asked.
    var columns: String {
        guard withoutBody else { return "s.*" }
        return ["id", "source", "path", "file_name", "revision", "digest", "name", "description", "license", "compatibility",
                "allowed_tools", "metadata", "extra_fields", "frontmatter", "loadable", "strict", "load_errors", "strict_errors", "warnings",
                "shadowed_by", "first_seen_at", "updated_at", "deleted_at"].map { "s.\($0)" }.joined(separator: ", ") + ", '' AS body"
    }

    public init(text: String? = nil, source: String? = nil, limit: Int = 50, offset: Int = 0) {
        self.text = text
        self.source = source
        self.limit = limit
        self.offset = offset
    }

    /// Column weights for bm25: the name counts over the description over the body.
    public static let bm25Weights = (name: 10.0, description: 4.0, body: 1.0)

    /// Turns free text into an FTS5 query that cannot be a syntax error: each word quoted,
    /// all words required, the last one also as a prefix. Nil when the text has no words.
    public static func ftsExpression(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
        guard !words.isEmpty else { return nil }
        // Prefix queries are not stemmed, so the last word matches as a (stemmed) word or as a prefix.
        return words.enumerated().map { index, word in
            index == words.count - 1 ? "(\"\(word)\" OR \"\(word)\"*)" : "\"\(word)\""
        }.joined(separator: " AND ")
    }
}

/// A search hit: the skill and its bm25 rank (lower is better, as SQLite reports it).
public struct SkillHit: Sendable, Equatable {
    public var skill: SkillRecord
    public var rank: Double

    public init(skill: SkillRecord, rank: Double) {
        self.skill = skill
        self.rank = rank
    }
}
