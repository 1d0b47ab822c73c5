import Base
import Foundation
import GRDB

/// A memory's tier.
public enum MemoryType: String, Sendable, Codable, CaseIterable {
    case core, episodic, archival
}

/// Who a memory belongs to: an agent, a role, a group's blackboard, or everyone.
public enum MemoryScope: String, Sendable, Codable, CaseIterable {
    case agent, role, group, global
}

/// One row of `memories`: the whole text and who wrote it. The text is also stored in chunks for search.
public struct MemoryRecord: Sendable, Equatable, Codable, FetchableRecord {
    public var id: Int64
    public var type: MemoryType
    public var scope: MemoryScope
    /// The agent, role or group the memory belongs to; empty for global memories.
    public var owner: String
    public var text: String
    public var metadata: String?
    public var importance: Double
    /// Seconds since 1970.
    public var createdAt: Double
    public var agent: String
    public var role: String?

    static let columns = "m.id, m.type, m.scope, m.owner, m.text, m.metadata, m.importance, m.created_at, m.agent, m.role"

    public init(row: Row) throws {
        id = row["id"]
        type = MemoryType(rawValue: row["type"]) ?? .episodic
        scope = MemoryScope(rawValue: row["scope"]) ?? .agent
        owner = row["owner"]
        text = row["text"]
        metadata = row["metadata"]
        importance = row["importance"]
        createdAt = row["created_at"]
        agent = row["agent"]
        role = row["role"]
    }

    public init(id: Int64 = 0, type: MemoryType, scope: MemoryScope, owner: String, text: String, metadata: String?,
                importance: Double, createdAt: Double, agent: String, role: String?) {
        self.id = id
        self.type = type
        self.scope = scope
        self.owner = owner
        self.text = text
        self.metadata = metadata
        self.importance = importance
        self.createdAt = createdAt
        self.agent = agent
        self.role = role
    }
}

/// The scopes one caller reads: its agent's, its role's, its group's blackboard, and global ones.
public struct MemoryVisibility: Sendable, Equatable {
    public var agent: String
    public var role: String?
    public var group: String?

    public init(agent: String, role: String?, group: String?) {
        self.agent = agent
        self.role = role
        self.group = group
    }

    /// Whether the caller may read `memory`.
    public func contains(_ memory: MemoryRecord) -> Bool {
        switch memory.scope {
        case .agent: return memory.owner == agent
        case .role: return memory.owner == role
        case .group: return memory.owner == group
        case .global: return true
        }
    }

    /// An SQL condition on `m` (the memories table) with its arguments. A nil role or group binds
    /// NULL, which equals no owner.
    var sql: (String, [DatabaseValueConvertible?]) {
        ("((m.scope = 'agent' AND m.owner = ?) OR (m.scope = 'role' AND m.owner = ?) OR (m.scope = 'group' AND m.owner = ?) OR m.scope = 'global')",
         [agent, role, group])
    }
}

/// A memory search: the words, who is asking, filters, and how to weigh relevance against
/// importance and recency.
public struct MemorySearch: Sendable {
    public var text: String
    public var visibility: MemoryVisibility
    public var types: [MemoryType] = []
    public var scope: MemoryScope?
    /// Equality filters on top-level metadata keys (scalar values).
    public var metadata: [String: JSONValue] = [:]
    public var limit = 8
    public var relevanceWeight = 0.7
    public var importanceWeight = 0.2
    public var recencyWeight = 0.1
    /// Seconds after which recency counts half.
    public var recencyHalfLife: Double = 7 * 86400
    /// Seconds since 1970; recency is measured from here.
    public var now: Double = Date().timeIntervalSince1970

    public init(text: String, visibility: MemoryVisibility) {
        self.text = text
        self.visibility = visibility
    }
}

/// One search result: the memory, the best-matching chunk's snippet, and the score's parts.
public struct MemoryHit: Sendable, Equatable {
    public var memory: MemoryRecord
    public var snippet: String
    public var score: Double
    /// bm25 of the best chunk, normalised so the best hit of the search is 1.
    public var relevance: Double

    public init(memory: MemoryRecord, snippet: String, score: Double, relevance: Double) {
        self.memory = memory
        self.snippet = snippet
        self.score = score
        self.relevance = relevance
    }
}
