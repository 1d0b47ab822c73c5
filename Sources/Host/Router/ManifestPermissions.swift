import Base
import Plugins

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
