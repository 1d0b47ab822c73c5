import Base
import Foundation
import Core
import Registry

/// Checked keys, kept so a request costs one hash and one mark read (a `stat`) instead of a registry
/// read. Exact for every change `agenthub keys` makes: the registry moves the `keys` mark of its
/// change feed on every key created or revoked, and a moved mark empties the cache before the next
/// check. Entries also age out after `maxAge`, for a registry changed by other means (a restored backup).
final class KeyCache: Sendable {
    private struct Entry: Sendable {
        var record: APIKeyRecord
        var at: ContinuousClock.Instant
    }

    let feed: any ChangeFeed
    let maxAge: Duration
    let capacity: Int
    private let state = LockedValue<(stamp: String, entries: [Data: Entry])>(("", [:]))

    init(feed: any ChangeFeed, maxAge: Duration = .seconds(5), capacity: Int = 10_000) {
        self.feed = feed
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// The cached record for a key hash, if fresh.
    func lookup(_ digest: Data, now: ContinuousClock.Instant = .now) -> APIKeyRecord? {
        let current = feed.mark(.keys)
        return state.mutate { state in
            if state.stamp != current {
                state = (current, [:])
                return nil
            }
            guard let entry = state.entries[digest], now - entry.at < maxAge else { return nil }
            return entry.record
        }
    }

    /// Remembers a key found in the registry (unknown keys are not kept: a flood of made-up keys
    /// cannot fill the cache).
    func store(_ digest: Data, _ record: APIKeyRecord, now: ContinuousClock.Instant = .now) {
        state.mutate { state in
            if state.entries.count >= capacity { state.entries.removeAll() }
            state.entries[digest] = Entry(record: record, at: now)
        }
    }
}
