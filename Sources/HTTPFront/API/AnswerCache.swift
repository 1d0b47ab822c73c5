import Base
import Core
import Foundation

/// Answers of the skill routes, kept until the registry's skills change (the change feed's `skills`
/// mark, moved by every publish in any process) or the manifest does (the revision is part of each key): a search
/// asked again costs a `stat` and a lookup, not a full-text query.
final class AnswerCache: Sendable {
    struct Answer: Sendable {
        var text: String
        var etag: String
    }

    let feed: any ChangeFeed
    let capacity: Int
    private let state = LockedValue<(stamp: String, answers: [String: Answer])>(("", [:]))

    init(feed: any ChangeFeed, capacity: Int = 2048) {
        self.feed = feed
        self.capacity = capacity
    }

    /// The stamp as of now: read it before computing an answer, and store the answer under it.
    var current: String { feed.mark(.skills) }

    func lookup(_ key: String, stamp current: String) -> Answer? {
        state.mutate { state in
            if state.stamp != current {
                state = (current, [:])
                return nil
            }
            return state.answers[key]
        }
    }

    /// Keeps an answer computed under `stamp` (dropped when the stamp moved meanwhile).
    func store(_ key: String, _ answer: Answer, stamp computedUnder: String) {
        state.mutate { state in
            guard state.stamp == computedUnder else { return }
            if state.answers.count >= capacity { state.answers.removeAll() }
            state.answers[key] = answer
        }
    }
}
