import Registry

// The records the core's services take and return. They are defined beside their storage today
// (Registry); the fronts name them through the core, so a front needs no import of the storage
// module and cannot reach past the services to the database.

public typealias SkillRecord = Registry.SkillRecord
public typealias SkillHit = Registry.SkillHit
public typealias SkillFileRecord = Registry.SkillFileRecord
public typealias SourceRecord = Registry.SourceRecord
public typealias SourceState = Registry.SourceState
public typealias ApprovalRecord = Registry.ApprovalRecord
public typealias ApprovalStatus = Registry.ApprovalStatus
public typealias ApprovalScope = Registry.ApprovalScope
public typealias ApprovalAnswer = Registry.ApprovalAnswer
public typealias ApprovalDecision = Registry.ApprovalDecision
public typealias ApprovalGrantRecord = Registry.ApprovalGrantRecord
public typealias TraceEvent = Registry.TraceEvent
public typealias TraceQuery = Registry.TraceQuery
public typealias AgentStatusRecord = Registry.AgentStatusRecord
public typealias TaskRecord = Registry.TaskRecord
public typealias TaskStatus = Registry.TaskStatus
public typealias TaskChange = Registry.TaskChange
public typealias APIKeyRecord = Registry.APIKeyRecord
public typealias HostRecord = Registry.HostRecord
public typealias BridgeServerRecord = Registry.BridgeServerRecord

/// Skill folders checked on disk, as a sync would read them (`agenthub skills validate`, `check`).
public enum SkillFolders {
    /// One folder as a skill: its parsed frontmatter, verdicts, errors and warnings.
    public static func inspect(path: String) throws(RegistryError) -> DiscoveredSkill {
        try SkillDiscovery().inspect(path: path)
    }

    /// Every skill under a local source's root, discovered with the source's options.
    public static func snapshot(root: String, displayName: String, options: DiscoveryOptions) throws(RegistryError) -> SkillSnapshot {
        try SkillDiscovery(options: options).snapshot(of: try LocalSkillTree(root: root, displayName: displayName))
    }
}
