import Plugins
import Registry

/// Builds callers from what a front knows (agent, role, group) and checks them against the manifest.
public struct CallerIdentity: Sendable {
    let manifest: Manifest

    public init(manifest: Manifest) { self.manifest = manifest }

    /// A caller for `agent` with `role` and `group`. When only the agent is given and the manifest
    /// declares it, its role and group come from `agents:`.
    public func caller(agent: String, role: String?, group: String?) throws(HostError) -> ToolCaller {
        var role = role
        var group = group
        if role == nil, group == nil, let declared = manifest.agents.first(where: { $0.name == agent }) {
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

/// What plugins ask about a caller, answered from the policy engine and the role's `skills:`.
struct ManifestPermissions: CallerPermissions {
    let policy: PolicyEngine
    let caller: ToolCaller
    /// nil: no role, so no restriction (an operator at the CLI); otherwise the role's patterns.
    let skillPatterns: [(source: Glob?, name: Glob)]?

    func explicitlyAllows(_ action: String) -> Bool {
        policy.explicitlyAllows(action, role: caller.role, group: caller.group)
    }

    func canSeeSkill(name: String, source: String) -> Bool {
        guard let skillPatterns else { return true }
        return skillPatterns.contains { pattern in
            pattern.name.matches(name) && (pattern.source?.matches(source) ?? true)
        }
    }

    /// Compiled `skills:` patterns per role.
    static func skillPatterns(_ manifest: Manifest) -> [String: [(source: Glob?, name: Glob)]] {
        var out: [String: [(source: Glob?, name: Glob)]] = [:]
        for role in manifest.roles {
            out[role.name] = role.skills.compactMap { pattern in
                let parts = pattern.split(separator: "/", maxSplits: 1).map(String.init)
                if parts.count == 2 {
                    guard let source = try? Glob(parts[0]), let name = try? Glob(parts[1]) else { return nil }
                    return (source, name)
                }
                return (try? Glob(pattern)).map { (nil, $0) }
            }
        }
        return out
    }
}
