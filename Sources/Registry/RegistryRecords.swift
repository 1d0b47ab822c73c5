import Base
import Foundation
import GRDB

/// Where a source's skills come from.
public enum SourceKind: String, Codable, Sendable {
    case local, git
    /// Skills a bridged MCP server publishes through the Skills extension.
    case mcp
}

/// A source's stored sync status. Readers never see `syncing` from a process that is gone: the
/// core derives the status to show (`SourceReport`), once for every front.
public enum SourceState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Declared, never synced.
    case new
    /// A process is syncing it (the reason names the process).
    case syncing
    /// Its last sync published a revision.
    case ready
    /// Its last sync failed; the last good revision is still served.
    case failed
    /// A configuration failure: not retried until its manifest entry changes.
    case stalled
    /// A sync would have removed most of its skills; it kept what it had.
    case suspect
    /// `suspend: true` in the manifest: it keeps serving what it has.
    case suspended
    /// No longer in the manifest: its skills are not served.
    case removed
}

/// A source as the manifest declares it: its name, kind, location and place in manifest order
/// (which decides who wins a skill name).
public struct SourceDescriptor: Sendable, Equatable {
    public var name: String
    public var kind: SourceKind
    public var location: String
    public var position: Int

    public init(name: String, kind: SourceKind, location: String, position: Int) {
        self.name = name
        self.kind = kind
        self.location = location
        self.position = position
    }
}

/// A row of `sources`: a source and its sync status.
public struct SourceRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "sources"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public var name: String
    public var kind: SourceKind
    public var location: String
    public var position: Int
    public var status: SourceState
    public var statusReason: String?
    public var revision: String?
    public var lastAttemptAt: Date?
    public var lastSuccessAt: Date?
    public var consecutiveFailures: Int
    public var skillCount: Int
    /// For git sources: the commit the served revision came from.
    public var commit: String?
    /// Digest of the manifest entry the served revision was read with.
    public var configDigest: String?
    /// Why the last sync failed: timeout, auth, not found, network, validation, config.
    public var failureKind: String?
    /// Live skills that load, that pass the strict check, that lose their name to another, and tombstones.
    public var loadableCount: Int = 0
    public var strictCount: Int = 0
    public var shadowedCount: Int = 0
    public var tombstonedCount: Int = 0
    /// The scheduler's bookkeeping (`sync_leases`): who syncs it now, when it was last checked, when next.
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastCheckedAt: Date?
    public var nextAttemptAt: Date?

    /// When it was last tried: a sync that ran, or a check that found nothing new (whichever is later).
    /// Every front shows this one time as "last tried".
    public var lastTriedAt: Date? { [lastAttemptAt, lastCheckedAt].compactMap { $0 }.max() }
}

/// A row of `skills`: one skill directory of one source, with both verdicts.
public struct SkillRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "skills"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public var id: Int64
    public var source: String
    public var path: String
    public var fileName: String
    public var revision: String
    public var digest: String
    public var name: String
    public var description: String
    public var license: String?
    public var compatibility: String?
    public var allowedTools: String?
    /// JSON text of the `metadata` field, nested maps kept.
    public var metadata: String?
    /// JSON object text of frontmatter fields outside the spec.
    public var extraFields: String?
    /// JSON object text of every frontmatter field as written (nil for a registry written before it was kept).
    public var frontmatter: String?
    public var body: String
    public var loadable: Bool
    public var strict: Bool
    public var loadErrors: String
    public var strictErrors: String
    public var warnings: String
    public var shadowedBy: Int64?
    public var firstSeenAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?

    /// Read by column index of name, not through Codable: a listing decodes thousands of these, and
    /// GRDB's snake-case key conversion made decoding most of a skill list's cost.
    public init(row: Row) throws {
        id = row["id"]
        source = row["source"]
        path = row["path"]
        fileName = row["file_name"]
        revision = row["revision"]
        digest = row["digest"]
        name = row["name"]
        description = row["description"]
        license = row["license"]
        compatibility = row["compatibility"]
        allowedTools = row["allowed_tools"]
        metadata = row["metadata"]
        extraFields = row["extra_fields"]
        frontmatter = row["frontmatter"]
        body = row["body"]
        loadable = row["loadable"]
        strict = row["strict"]
        loadErrors = row["load_errors"]
        strictErrors = row["strict_errors"]
        warnings = row["warnings"]
        shadowedBy = row["shadowed_by"]
        firstSeenAt = row["first_seen_at"]
        updatedAt = row["updated_at"]
        deletedAt = row["deleted_at"]
    }

    /// As `--json` and the API show it: the error and warning lists as arrays, `metadata` and
    /// `extra_fields` as the objects they are (never JSON inside a string).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(source, forKey: .source)
        try c.encode(path, forKey: .path)
        try c.encode(fileName, forKey: .fileName)
        try c.encode(revision, forKey: .revision)
        try c.encode(digest, forKey: .digest)
        try c.encode(name, forKey: .name)
        try c.encode(description, forKey: .description)
        try c.encodeIfPresent(license, forKey: .license)
        try c.encodeIfPresent(compatibility, forKey: .compatibility)
        try c.encodeIfPresent(allowedTools, forKey: .allowedTools)
        try c.encodeIfPresent(metadata.flatMap { JSONValue.parse($0) }, forKey: .metadata)
        try c.encodeIfPresent(extraFields.flatMap { JSONValue.parse($0) }, forKey: .extraFields)
        try c.encodeIfPresent(frontmatter.flatMap { JSONValue.parse($0) }, forKey: .frontmatter)
        try c.encode(body, forKey: .body)
        try c.encode(loadable, forKey: .loadable)
        try c.encode(strict, forKey: .strict)
        try c.encode(loadErrorList, forKey: .loadErrors)
        try c.encode(strictErrorList, forKey: .strictErrors)
        try c.encode(warningList, forKey: .warnings)
        try c.encodeIfPresent(shadowedBy, forKey: .shadowedBy)
        try c.encode(firstSeenAt, forKey: .firstSeenAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(deletedAt, forKey: .deletedAt)
    }

    public var loadErrorList: [String] { Self.list(loadErrors) }
    public var strictErrorList: [String] { Self.list(strictErrors) }
    public var warningList: [String] { Self.list(warnings) }

    static func list(_ json: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }
}

/// A row of `skill_files`.
public struct SkillFileRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "skill_files"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public var skillId: Int64
    public var path: String
    public var kind: TreeEntryKind
    public var size: Int64
    public var isBinary: Bool
    public var content: String?
    public var linkTarget: String?
    public var note: String?
    /// `sha256:` and the hex digest of the raw bytes (nil when they were never read).
    public var digest: String?
    /// The raw bytes, when `content` cannot give them back exactly (never read by listings).
    public var data: Data?

    /// The file's exact bytes, when the registry keeps them.
    public var bytes: Data? { data ?? content.map { Data($0.utf8) } }

    public init(row: Row) throws {
        skillId = row["skill_id"]
        path = row["path"]
        kind = TreeEntryKind(rawValue: row["kind"]) ?? .other
        size = row["size"]
        isBinary = row["is_binary"]
        content = row["content"]
        linkTarget = row["link_target"]
        note = row["note"]
        digest = row["digest"]
        data = row["data"]
    }
}

/// A row of `sync_runs`: one attempt to sync one source.
public struct SyncRunRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "sync_runs"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public var id: Int64
    public var source: String
    public var startedAt: Date
    public var finishedAt: Date
    public var outcome: String
    public var revision: String?
    public var added: Int
    public var updated: Int
    public var removed: Int
    public var unchanged: Int
    public var rowsWritten: Int
    public var message: String?
}

extension TreeEntryKind: DatabaseValueConvertible {}
extension SourceKind: DatabaseValueConvertible {}

func jsonText(_ strings: [String]) -> String {
    JSONValue.array(strings.map(JSONValue.string)).jsonText
}
