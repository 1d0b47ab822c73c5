import Plugins

/// Builds callers from what a front knows (agent, role, group) and checks them against the manifest.
public struct CallerIdentity: Sendable {
    let manifest: Manifest

    public init(manifest: Manifest) { self.manifest = manifest }

    /// A caller for `agent` with `role` and `group`. When only the agent is given and the manifest
    /// declares it, its role and group come from `agents:`.
    public func caller(agent: String, role: String?, group: String?) throws(HostError) -> ToolCaller {
        var role = role
        var group = group
        if let declared = manifest.agents.first(where: { $0.name == agent }) {
            // A declared agent always runs with its declared role and group.
            if let role, role != declared.role {
                throw HostError(.caller, "agent '\(agent)' is declared with role '\(declared.role)' in agents:; it cannot run as role '\(role)'")
            }
            if let group, group != declared.group {
                throw HostError(.caller, "agent '\(agent)' is declared with \(declared.group.map { "group '\($0)'" } ?? "no group") in agents:; it cannot run in group '\(group)'")
            }
            role = declared.role
            group = declared.group
        }
        if let role, manifest.role(named: role) == nil {
            let hint = Suggestion.closest(to: role, in: manifest.roles.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
            throw HostError(.caller, "unknown role '\(role)'\(hint) (roles: \(manifest.roles.map(\.name).joined(separator: ", ")))")
        }
        var isLead = false
        if let group {
            guard let config = manifest.group(named: group) else {
                let hint = Suggestion.closest(to: group, in: manifest.groups.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                throw HostError(.caller, "unknown group '\(group)'\(hint)")
            }
            guard let role, config.members.contains(role) else {
                throw HostError(.caller, "group '\(group)' is for roles \(config.members.joined(separator: ", ")); \(role.map { "role '\($0)' is not one of them" } ?? "give a role")")
            }
            isLead = config.lead == role
        }
        return ToolCaller(agent: agent, role: role, group: group, isGroupLead: isLead)
    }
}
