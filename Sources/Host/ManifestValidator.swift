import Base

/// Checks that need the whole manifest: references between sections and duplicate names.
struct ManifestValidator {
    let r: ManifestReader

    func validate(_ m: Manifest) {
        let roles = m.roles.map(\.name)
        let groups = m.groups.map(\.name)
        let sources = m.sources.map(\.name)

        let bridged = m.plugins.mcp?.servers.map(\.name) ?? []
        for source in m.sources {
            if case .mcp(let server) = source.location, !bridged.contains(server) {
                r.report(.error, source.position, "sources.\(source.name).mcp: '\(server)' is not a server in plugins.mcp.servers\(hint(server, bridged))")
            }
        }
        var seen: [String: SourceLocation] = [:]
        for source in m.sources {
            if let first = seen[source.name] {
                r.report(.error, source.position, "duplicate source name '\(source.name)' (first defined at line \(first.line))")
            } else { seen[source.name] = source.position }
        }
        for group in m.groups {
            for (index, member) in group.members.enumerated() where !roles.contains(member) {
                r.report(.error, group.memberLocations[safe: index] ?? group.location, "groups.\(group.name).members: unknown role '\(member)'\(hint(member, roles))")
            }
            if Set(group.members).count != group.members.count {
                r.report(.error, group.location, "groups.\(group.name).members lists a role more than once")
            }
            if let lead = group.lead, !group.members.contains(lead) {
                r.report(.error, group.leadLocation ?? group.location, "groups.\(group.name).lead '\(lead)' is not one of its members (\(group.members.joined(separator: ", ")))")
            }
        }
        for agent in m.agents {
            if !roles.contains(agent.role) {
                r.report(.error, agent.roleLocation ?? agent.location, "agents.\(agent.name).role: unknown role '\(agent.role)'\(hint(agent.role, roles))")
            }
            if let group = agent.group {
                if let g = m.group(named: group) {
                    if roles.contains(agent.role), !g.members.contains(agent.role) {
                        r.report(.error, agent.groupLocation ?? agent.location, "agents.\(agent.name): role '\(agent.role)' is not a member of group '\(group)'")
                    }
                } else {
                    r.report(.error, agent.groupLocation ?? agent.location, "agents.\(agent.name).group: unknown group '\(group)'\(hint(group, groups))")
                }
            }
        }
        for role in m.roles {
            for (index, pattern) in role.skills.enumerated() {
                let parts = pattern.split(separator: "/").map(String.init)
                guard parts.count == 2, let glob = try? Glob(parts[0]), glob.isLiteral else { continue }
                if !sources.contains(parts[0]) {
                    r.report(.error, role.skillLocations[safe: index] ?? role.location, "roles.\(role.name).skills: '\(pattern)' names unknown source '\(parts[0])'\(hint(parts[0], sources))")
                }
            }
        }
        var servers: [String: SourceLocation] = [:]
        for server in m.plugins.mcp?.servers ?? [] {
            if let first = servers[server.name] {
                r.report(.error, server.location, "duplicate MCP server name '\(server.name)' (first defined at line \(first.line))")
            } else { servers[server.name] = server.location }
        }
    }

    private func hint(_ name: String, _ candidates: [String]) -> String {
        Suggestion.closest(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}


extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
