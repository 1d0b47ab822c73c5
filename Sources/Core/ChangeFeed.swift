import Base

/// What changes in the store that another process may have changed.
public enum ChangeTopic: String, Sendable, CaseIterable {
    /// Skills and their files (every publish, every source removed).
    case skills
    /// Approval requests opened or ended, grants made or revoked.
    case approvals
    /// API keys created or revoked.
    case keys
    /// Trace and reported events. On SQLite their writers move no mark (a stamp per batch would cost
    /// every batch a write): a reader re-reads the log every `recheck(.events)`. PostgreSQL moves it
    /// in each batch's transaction, so a reader there re-reads when it moves.
    case events
    /// MCP sessions over HTTP ended (deleted, or their key revoked): hosts holding one look again.
    case sessions
}

/// The one cross-process "this changed" every reader uses: each topic has a mark that moves when a
/// writer in any process changes it. Caches keep answers under the mark they were computed under
/// and drop them when it moves; waiters compare marks between waits. A change made in the reader's
/// own process is told at once by in-process signals; `recheck` bounds how late a change made
/// elsewhere is seen.
///
/// SQLite (`StampFeed`): a stamp file per topic beside the database, one `stat` to read. A second
/// backend answers from what it has (a version row moved by triggers, LISTEN/NOTIFY).
public protocol ChangeFeed: Sendable {
    /// Where `topic` stands now: equal marks mean no change in between ("" when the topic has no mark).
    func mark(_ topic: ChangeTopic) -> String
    /// Moves `topic`'s mark, for writers whose change the store does not mark by itself.
    func touch(_ topic: ChangeTopic)
    /// How often a reader with no in-process signal asks again (the mark, or the data for a topic
    /// without one).
    func recheck(_ topic: ChangeTopic) -> Duration
}

/// A change feed of stamp files (the SQLite store's: `skills-changed`, `approvals-changed`,
/// `keys-changed` beside the database, moved by the registry inside the operations that change
/// them). A topic without a stamp has no mark and is re-read every `recheck`.
public struct StampFeed: ChangeFeed {
    let stamps: [ChangeTopic: StampFile]

    public init(stamps: [ChangeTopic: StampFile]) { self.stamps = stamps }

    public func mark(_ topic: ChangeTopic) -> String { stamps[topic]?.current ?? "" }

    public func touch(_ topic: ChangeTopic) { stamps[topic]?.touch() }

    /// A stamp costs one `stat`: marked topics are asked often; unmarked ones cost a read each time.
    public func recheck(_ topic: ChangeTopic) -> Duration {
        stamps[topic] == nil ? .seconds(1) : .milliseconds(200)
    }
}
