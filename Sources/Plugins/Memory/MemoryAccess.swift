import Registry

/// Who may read and write which memories:
/// - a caller reads its own agent's memories, its role's, its group's blackboard and global ones;
/// - it writes its own agent and role scopes;
/// - any group member writes episodic and archival memories to the group blackboard, only the
///   group's lead writes `core` ones there;
/// - global writes need a policy rule that explicitly allows `memory_write_global`.
/// Deleting needs the same right as writing the memory.
struct MemoryAccess {
    static let globalWriteAction = CallerActions.memoryWriteGlobal

    let caller: ToolCaller
    let permissions: any CallerPermissions

    var visibility: MemoryVisibility { MemoryVisibility(agent: caller.agent, role: caller.role, group: caller.group) }

    func owner(forWriting scope: MemoryScope, type: MemoryType) throws(ToolError) -> String {
        switch scope {
        case .agent:
            return caller.agent
        case .role:
            guard let role = caller.role else { throw ToolError(.forbidden, "scope 'role' needs a caller with a role") }
            return role
        case .group:
            guard let group = caller.group else { throw ToolError(.forbidden, "scope 'group' needs a caller in a group") }
            if type == .core, !caller.isGroupLead {
                throw ToolError(.forbidden, "only the lead of group '\(group)' writes core memories to its blackboard; write episodic or archival ones instead")
            }
            return group
        case .global:
            guard permissions.explicitlyAllows(Self.globalWriteAction) else {
                throw ToolError(.forbidden, "global memories need a policy rule that allows \(Self.globalWriteAction) for this caller")
            }
            return ""
        }
    }

    func checkDelete(_ memory: MemoryRecord) throws(ToolError) {
        _ = try owner(forWriting: memory.scope, type: memory.type)
    }
}
