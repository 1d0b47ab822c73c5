import Registry
import Base
import GitSync
import Yams

/// Reads each section of the manifest from its YAML nodes. Problems go to the reader; decoding
/// carries on so that every problem in the file is reported at once.
struct ManifestDecoder {
    let r: ManifestReader

    func decode(_ root: Node) -> Manifest {
        var m = Manifest()
        guard let top = r.mapping(root, "the manifest", known: Manifest.keys, required: ["version"]) else { return m }
        if let v = top["version"] {
            if let version = r.int(v, "version", range: 1...Int.max), version != 1 {
                r.error(v, "version \(version) is not supported; this host reads version 1")
            }
        }
        if let node = top["host"] { m.host = settings(node, ManifestKeys.host).value }
        if let node = top["sync"] { m.sync = settings(node, ManifestKeys.sync).value }
        if let node = top["router"] { m.router = settings(node, ManifestKeys.router).value }
        if let node = top["mcp"] { m.mcp = settings(node, ManifestKeys.mcp).value }
        if let node = top["http"] { m.http = http(node) }
        if let node = top["sources"] {
            if case .sequence(let items) = node {
                m.sources = items.enumerated().compactMap { source($1, "sources[\($0)]") }
            } else { r.error(node, "sources must be a list, found \(r.describe(node))") }
        }
        if let node = top["policy"] { m.policy = policy(node) }
        if let node = top["roles"] { m.roles = r.namedEntries(node, "roles").compactMap { role($0.name, $0.key, $0.value) } }
        if let node = top["groups"] { m.groups = r.namedEntries(node, "groups").compactMap { group($0.name, $0.key, $0.value) } }
        if let node = top["plugins"] { m.plugins = PluginsDecoder(r: r).decode(node) }
        if let node = top["agents"] { m.agents = r.namedEntries(node, "agents").compactMap { agent($0.name, $0.key, $0.value) } }
        return m
    }

    /// A settings section read through its table: the values, and the mapping for keys read by hand.
    func settings<Root>(_ node: Node, _ table: SettingsSection<Root>) -> (value: Root, map: [String: Node]?) {
        var value = table.defaults
        guard let map = r.mapping(node, table.path, known: ManifestKeys.known(table.path)) else { return (value, nil) }
        table.decode(map, r, into: &value)
        return (value, map)
    }

    func http(_ node: Node) -> HTTPSettings {
        let (read, map) = settings(node, ManifestKeys.http)
        var s = read
        for (origin, item) in r.stringList(map?["allowed_origins"], "http.allowed_origins") {
            if origin.hasPrefix("http://") || origin.hasPrefix("https://") { s.allowedOrigins.append(origin) } else {
                r.error(item, "http.allowed_origins: an origin is scheme://host[:port] (like https://console.example.com), found '\(origin)'")
            }
        }
        return s
    }

    func source(_ node: Node, _ path: String) -> SourceConfig? {
        guard let map = r.mapping(node, path, known: SourceConfig.keys, required: ManifestKeys.required("sources[]")) else { return nil }
        let name = r.string(map["name"], "\(path).name")
        let label = name.map { "sources.\($0)" } ?? path
        if let name, let n = map["name"], !Names.isSourceName(name) {
            r.error(n, "source name '\(name)' must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        var location: SourceConfig.Location?
        let given = ["path", "git", "mcp"].filter { map[$0] != nil }
        switch (given.count, given.first) {
        case (1, "path"): location = r.string(map["path"], "\(label).path").map(SourceConfig.Location.path)
        case (1, "git"):
            location = r.string(map["git"], "\(label).git", expand: true).map(SourceConfig.Location.git)
            if case .git(let url)? = location, let g = map["git"] { checkGitURL(url, g, label) }
        case (1, _): location = r.string(map["mcp"], "\(label).mcp").map(SourceConfig.Location.mcp)
        case (0, _): r.error(node, "\(label) needs 'path' (a local folder), 'git' (a repository URL) or 'mcp' (a bridged server)")
        default: r.error(node, "\(label) has \(given.map { "'\($0)'" }.joined(separator: " and ")); a source is one of them")
        }
        var source = SourceConfig(name: name ?? "", location: location ?? .path(""), position: ManifestReader.location(node))
        if let refNode = map["ref"] {
            if case .path = location { r.error(refNode, "\(label).ref only applies to git sources") }
            source.ref = gitRef(refNode, "\(label).ref")
        }
        for (pattern, item) in r.stringList(map["paths"], "\(label).paths") {
            do { _ = try Glob(pattern, mode: .path); source.paths.append(pattern) } catch {
                r.error(item, "\(label).paths: \(error.description)")
            }
        }
        source.interval = r.duration(map["interval"], "\(label).interval")
        source.timeout = r.duration(map["timeout"], "\(label).timeout")
        if let v = r.bool(map["include_hidden"], "\(label).include_hidden") { source.includeHidden = v }
        if let v = r.int(map["max_depth"], "\(label).max_depth", range: 1...32) { source.maxDepth = v }
        if let v = r.int(map["max_dirs"], "\(label).max_dirs", range: 1...10_000_000) { source.maxDirs = v }
        source.maxVanished = r.double(map["max_vanished"], "\(label).max_vanished", range: 0...1)
        if let node = map["token_env"], let v = r.string(node, "\(label).token_env") {
            if EnvironmentExpansion.isVariableName(v) { source.tokenEnv = v } else {
                r.error(node, "\(label).token_env must name an environment variable, found '\(v)'")
            }
        }
        source.tokenFile = r.string(map["token_file"], "\(label).token_file", expand: true)
        source.username = r.string(map["username"], "\(label).username", expand: true)
        source.sshKey = r.string(map["ssh_key"], "\(label).ssh_key", expand: true)
        source.knownHosts = r.string(map["known_hosts"], "\(label).known_hosts", expand: true)
        if let v = r.bool(map["strict_host_keys"], "\(label).strict_host_keys") { source.strictHostKeys = v }
        source.caFile = r.string(map["ca_file"], "\(label).ca_file", expand: true)
        if let v = r.bool(map["suspend"], "\(label).suspend") { source.suspend = v }
        if case .git? = location {} else {
            for key in ["token_env", "token_file", "username", "ssh_key", "known_hosts", "strict_host_keys", "ca_file"] {
                if let n = map[key] { r.error(n, "\(label).\(key) only applies to git sources") }
            }
        }
        for (uri, item) in r.stringList(map["uris"], "\(label).uris") {
            if case .mcp? = location {} else { r.error(item, "\(label).uris only applies to mcp sources"); break }
            guard uri.contains("://"), uri.hasSuffix("/SKILL.md") else {
                r.error(item, "\(label).uris: '\(uri)' is not the URI of a SKILL.md (like skill://NAME/SKILL.md)")
                continue
            }
            source.uris.append(uri)
        }
        if case .mcp? = location {
            for key in ["paths", "include_hidden", "max_depth", "max_dirs", "ref"] {
                if let n = map[key] { r.error(n, "\(label).\(key) does not apply to mcp sources") }
            }
        }
        if let a = map["token_env"], map["token_file"] != nil {
            r.error(a, "\(label) has both token_env and token_file; give one")
        }
        if case .git? = location {
            r.requireReadableFile(source.tokenFile, map["token_file"], "\(label).token_file")
            r.requireReadableFile(source.sshKey, map["ssh_key"], "\(label).ssh_key")
            r.requireReadableFile(source.caFile, map["ca_file"], "\(label).ca_file")
            if let variable = source.tokenEnv, (r.environment[variable] ?? "").isEmpty, r.directory != nil {
                r.warning(map["token_env"], "\(label).token_env: the environment variable \(variable) is not set (or empty); the source will stall until it is")
            }
        }
        return location == nil || name == nil ? nil : source
    }

    /// The checks of the URL as written: a scheme, a host, no spaces. Whether the repository is
    /// there (a local path that vanished, a server that is down) is the sync's business, never the
    /// manifest's: a missing remote fails its source, not every command that reads the manifest.
    func checkGitURL(_ url: String, _ node: Node, _ label: String) {
        do throws(GitError) {
            _ = try GitURL.check(url, resolvingPathsAgainst: r.directory ?? ".", source: label)
        } catch {
            if error.kind == .notFound { return }
            r.error(node, error.message)
        }
    }

    func gitRef(_ node: Node, _ path: String) -> SourceConfig.GitRef? {
        guard let map = r.mapping(node, path, known: SourceConfig.GitRef.keys) else { return nil }
        guard map.count == 1, let (kind, valueNode) = map.first else {
            r.error(node, "\(path) must name exactly one of branch, tag, semver or commit")
            return nil
        }
        guard let value = r.string(valueNode, "\(path).\(kind)"), !value.isEmpty else { return nil }
        switch kind {
        case "branch": return .branch(value)
        case "tag": return .tag(value)
        case "semver":
            do throws(GitError) { _ = try SemverRange(value) } catch {
                r.error(valueNode, "\(path).semver: \(error.message)")
                return nil
            }
            return .semver(value)
        default:
            guard (7...40).contains(value.count), value.allSatisfy(\.isHexDigit) else {
                r.error(valueNode, "\(path).commit must be a commit id of 7 to 40 hex digits, found '\(value)'")
                return nil
            }
            return .commit(value.lowercased())
        }
    }

    func policy(_ node: Node) -> PolicyConfig {
        let (read, mapping) = settings(node, ManifestKeys.policy)
        var p = read
        guard let map = mapping else { return p }
        if let rules = map["rules"] {
            guard case .sequence(let items) = rules else {
                r.error(rules, "policy.rules must be a list, found \(r.describe(rules))")
                return p
            }
            for (index, item) in items.enumerated() {
                let path = "policy.rules[\(index)]"
                let askKeys = ["approvers", "client_grants"]
                guard let rule = r.mapping(item, path, known: ManifestKeys.known("policy.rules[]")) else { continue }
                let words = rule.keys.filter { PolicyDecision(rawValue: $0) != nil }
                guard words.count == 1, let word = words.first, let decision = PolicyDecision(rawValue: word), let list = rule[word] else {
                    r.error(item, "\(path) must have exactly one of allow, ask or deny")
                    continue
                }
                var compiled = PolicyConfig.Rule(decision: decision, patterns: toolPatterns(list, "\(path).\(word)"), location: ManifestReader.location(item))
                for key in askKeys.sorted() where rule[key] != nil && decision != .ask {
                    r.error(rule[key]!, "\(path).\(key) is for ask rules; this rule says \(word)")
                }
                if decision == .ask {
                    compiled.approvers = r.choice(rule["approvers"], "\(path).approvers", ApprovalApprovers.self)
                    compiled.clientGrants = r.choice(rule["client_grants"], "\(path).client_grants", ApprovalScope.self)
                }
                p.rules.append(compiled)
            }
        }
        if let risk = map["risk"] {
            for (pattern, key, value) in r.namedEntries(risk, "policy.risk") {
                guard checkToolPattern(pattern, key, "policy.risk") else { continue }
                if let level = r.choice(value, "policy.risk.\(pattern)", PolicyConfig.Risk.self) {
                    p.risk.append(.init(pattern: pattern, level: level, location: ManifestReader.location(key)))
                }
            }
        }
        return p
    }

    func role(_ name: String, _ key: Node, _ node: Node) -> RoleConfig? {
        if !Names.isIdentifier(name) { r.error(key, "role name '\(name)' must be letters, digits, '_' or '-'") }
        var role = RoleConfig(name: name, location: ManifestReader.location(key))
        guard let map = r.mapping(node, "roles.\(name)", known: RoleConfig.keys) else { return role }
        role.description = r.string(map["description"], "roles.\(name).description")
        (role.allow, role.ask, role.deny, role.rules) = decisionLists(map, "roles.\(name)")
        for (pattern, item) in r.stringList(map["skills"], "roles.\(name).skills") {
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count > 2 || parts.contains(where: \.isEmpty) {
                r.error(item, "roles.\(name).skills: '\(pattern)' must be NAME or SOURCE/NAME")
                continue
            }
            do {
                for part in parts { _ = try Glob(String(part)) }
                role.skills.append(pattern)
                role.skillLocations.append(ManifestReader.location(item))
            } catch {
                r.error(item, "roles.\(name).skills: \(error.description)")
            }
        }
        return role
    }

    func group(_ name: String, _ key: Node, _ node: Node) -> GroupConfig? {
        if !Names.isIdentifier(name) { r.error(key, "group name '\(name)' must be letters, digits, '_' or '-'") }
        var group = GroupConfig(name: name, location: ManifestReader.location(key))
        guard let map = r.mapping(node, "groups.\(name)", known: GroupConfig.keys, required: ManifestKeys.required("groups.*")) else { return group }
        let members = r.stringList(map["members"], "groups.\(name).members")
        group.members = members.map(\.0)
        group.memberLocations = members.map { ManifestReader.location($0.1) }
        group.lead = r.string(map["lead"], "groups.\(name).lead")
        group.leadLocation = map["lead"].map { ManifestReader.location($0) }
        (group.allow, group.ask, group.deny, group.rules) = decisionLists(map, "groups.\(name)")
        return group
    }

    func agent(_ name: String, _ key: Node, _ node: Node) -> AgentConfig? {
        guard let map = r.mapping(node, "agents.\(name)", known: AgentConfig.keys, required: ManifestKeys.required("agents.*")),
              let role = r.string(map["role"], "agents.\(name).role") else { return nil }
        var agent = AgentConfig(name: name, role: role, location: ManifestReader.location(key))
        agent.roleLocation = map["role"].map { ManifestReader.location($0) }
        agent.group = r.string(map["group"], "agents.\(name).group")
        agent.groupLocation = map["group"].map { ManifestReader.location($0) }
        if let node = map["key_env"], let v = r.string(node, "agents.\(name).key_env") {
            if EnvironmentExpansion.isVariableName(v) { agent.keyEnv = v } else {
                r.error(node, "agents.\(name).key_env must name an environment variable, found '\(v)'")
            }
        }
        if let v = r.bool(map["admin"], "agents.\(name).admin") { agent.admin = v }
        return agent
    }

    /// A role's or group's `allow`, `ask` and `deny` lists, and the same as one rule per pattern.
    func decisionLists(_ map: [String: Node], _ path: String) -> ([String], [String], [String], [PolicyConfig.Rule]) {
        var lists: [PolicyDecision: [String]] = [:]
        var rules: [PolicyConfig.Rule] = []
        for decision in PolicyDecision.allCases {
            for (pattern, item) in r.stringList(map[decision.rawValue], "\(path).\(decision.rawValue)") where checkToolPattern(pattern, item, "\(path).\(decision.rawValue)") {
                lists[decision, default: []].append(pattern)
                rules.append(.init(decision: decision, patterns: [pattern], location: ManifestReader.location(item)))
            }
        }
        return (lists[.allow] ?? [], lists[.ask] ?? [], lists[.deny] ?? [], rules)
    }

    /// A list of tool-name globs; bad patterns are reported and dropped.
    func toolPatterns(_ node: Node?, _ path: String) -> [String] {
        r.stringList(node, path).compactMap { pattern, item in checkToolPattern(pattern, item, path) ? pattern : nil }
    }

    func checkToolPattern(_ pattern: String, _ node: Node, _ path: String) -> Bool {
        do { _ = try Glob(pattern) } catch {
            r.error(node, "\(path): \(error.description)")
            return false
        }
        guard pattern.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-*?[]!".contains($0)) }) else {
            r.error(node, "\(path): '\(pattern)' is not a tool pattern (letters, digits, '_', '-' and the wildcards * ? [...])")
            return false
        }
        return true
    }
}

enum Names {
    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    static func isSourceName(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLowercase || first.isNumber else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
    }
}
