import Foundation

/// How publishing one snapshot went.
public struct PublishReport: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// The snapshot is now what readers see.
        case published
        /// Nothing differed from what was already published; nothing was written.
        case unchanged
        /// Too many skills vanished at once; the previous revision is still served and the source is `suspect`.
        case held
    }

    public var source: String
    public var revision: String
    public var outcome: Outcome
    public var added = 0
    public var updated = 0
    public var removed = 0
    public var unchanged = 0
    /// Rows of `skills`, `skill_files` and the search index written by this publish.
    public var rowsWritten = 0
    /// Why a publish was held, and names this source lost to an earlier source (shadowing).
    public var warnings: [String] = []

    public init(source: String, revision: String, outcome: Outcome) {
        self.source = source
        self.revision = revision
        self.outcome = outcome
    }

    /// The warning for a skill of `source` that loses its name to an earlier source or path.
    public static func shadowed(_ name: String, source: String, path: String, by winner: String, at winnerPath: String) -> String {
        "skill '\(name)' at \(source)/\(path) is shadowed by \(winner)/\(winnerPath), which ranks first (manifest order, with sources of bridged servers after every git and local source)"
    }
}

/// Knobs of a publish.
public struct PublishOptions: Sendable {
    /// Hold a publish back when more than this fraction of the source's live skills would vanish
    /// (1 disables the guard).
    public var maxVanishedFraction: Double = 0.5
    /// Publish even if the vanish guard would hold it (an operator's explicit decision).
    public var acceptRemovals = false
    public var now = Date()
    /// For git sources: the commit published, recorded on the source (a no-op check compares against it).
    public var commit: String?
    /// A digest of the source's manifest entry, so a changed entry is re-read even at the same commit.
    public var configDigest: String?

    public init(maxVanishedFraction: Double = 0.5, acceptRemovals: Bool = false, now: Date = Date(),
                commit: String? = nil, configDigest: String? = nil) {
        self.maxVanishedFraction = maxVanishedFraction
        self.acceptRemovals = acceptRemovals
        self.now = now
        self.commit = commit
        self.configDigest = configDigest
    }
}

extension PublishOptions {
    /// Why a publish that would make `vanished` of a source's `live` skills disappear is held; nil
    /// when it may go ahead (the guard is off, accepted, or not reached).
    public func holdReason(vanished: Int, live: Int, revision: String) -> String? {
        guard live > 0, !acceptRemovals, Double(vanished) / Double(live) > maxVanishedFraction else { return nil }
        return "\(vanished) of \(live) skills would vanish at once (more than \(Int(maxVanishedFraction * 100))%); the publish of \(revision) is held and the previous revision is still served (sync with --accept-removals to publish it)"
    }
}
