import Base
import Foundation
import Plugins
import Yams

/// Reads `plugins:`.
struct PluginsDecoder {
    let r: ManifestReader

    func decode(_ node: Node) -> PluginsConfig {
        var p = PluginsConfig()
        guard let map = r.mapping(node, "plugins", known: PluginsConfig.keys) else { return p }
        if let node = map["file"] { p.file = file(node) }
        if let node = map["memory"] { p.memory = memory(node) }
        if let node = map["export"] {
            var e = ManifestKeys.export.defaults
            if let m = section(node, "plugins.export", ManifestKeys.known("plugins.export")) { ManifestKeys.export.decode(m, r, into: &e) }
            p.export = e
        }
        if let node = map["skills"] {
            _ = section(node, "plugins.skills", SkillsPluginConfig.keys)
            p.skills = SkillsPluginConfig()
        }
        if let node = map["mcp"] { p.mcp = mcp(node) }
        return p
    }

    /// A plugin's mapping; `{}` and an empty value both mean "enabled with defaults".
    private func section(_ node: Node, _ path: String, _ keys: [String]) -> [String: Node]? {
        if case .scalar = node, node.tag.description == Tag.Name.null.rawValue { return [:] }
        return r.mapping(node, path, known: keys.isEmpty ? ["\u{0}"] : keys)
    }

    /// `roots:` items: a folder, or `{path: FOLDER, allow_hard_links: true}`.
    private func roots(_ node: Node?) -> [(String, Node, Bool)] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else {
            r.error(node, "plugins.file.roots must be a list, found \(r.describe(node))")
            return []
        }
        return items.enumerated().compactMap { index, item in
            let path = "plugins.file.roots[\(index)]"
            if case .mapping = item {
                guard let m = r.mapping(item, path, known: ["path", "allow_hard_links"], required: ["path"]),
                      let root = r.string(m["path"], "\(path).path", expand: true) else { return nil }
                return (root, m["path"] ?? item, r.bool(m["allow_hard_links"], "\(path).allow_hard_links") ?? false)
            }
            return r.string(item, path, expand: true).map { ($0, item, false) }
        }
    }

    func file(_ node: Node) -> FilePlugin.Settings {
        var f = ManifestKeys.file.defaults
        guard let map = section(node, "plugins.file", ManifestKeys.known("plugins.file")) else { return f }
        for (root, item, allowsHardLinks) in roots(map["roots"]) {
            guard !root.isEmpty, !root.utf8.contains(0) else {
                r.error(item, "plugins.file.roots: a root must name a folder, found '\(root)'")
                continue
            }
            if let full = r.resolved(root) {
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) {
                    r.error(item, "plugins.file.roots: \(full) does not exist")
                } else if !isDirectory.boolValue {
                    r.error(item, "plugins.file.roots: \(full) is not a folder")
                }
            }
            f.roots.append(root)
            if allowsHardLinks { f.hardLinkRoots.insert(root) }
        }
        ManifestKeys.file.decode(map, r, into: &f)
        return f
    }

    func memory(_ node: Node) -> MemoryPlugin.Settings {
        var m = ManifestKeys.memory.defaults
        guard let map = section(node, "plugins.memory", ManifestKeys.known("plugins.memory")) else { return m }
        ManifestKeys.memory.decode(map, r, into: &m)
        return m
    }

    func mcp(_ node: Node) -> MCPPluginConfig {
        var c = MCPPluginConfig()
        guard let map = section(node, "plugins.mcp", MCPPluginConfig.keys) else { return c }
        ManifestKeys.bridge.decode(map, r, into: &c)
        guard let servers = map["servers"] else { return c }
        for (name, key, value) in r.namedEntries(servers, "plugins.mcp.servers") {
            let path = "plugins.mcp.servers.\(name)"
            if !Names.isIdentifier(name) || name.contains(MCPServerConfig.separator) {
                r.error(key, "server name '\(name)' must be letters, digits, '_' or '-', without '__'")
            }
            let prefix = name.count + MCPServerConfig.separator.count
            if prefix >= MCPServerConfig.maxToolNameLength {
                r.error(key, "server name '\(name)' is \(name.count) characters: every bridged tool name '\(name)__<tool>' would exceed \(MCPServerConfig.maxToolNameLength) characters")
            }
            guard let m = r.mapping(value, path, known: MCPServerConfig.keys) else { continue }
            guard let endpoint = Self.endpoint(m, path, value, r) else { continue }
            var server = MCPServerConfig(name: name, command: endpoint.command ?? "", location: ManifestReader.location(key))
            server.commandLocation = ManifestReader.location(m["command"])
            server.remote = endpoint.remote
            server.args = r.stringList(m["args"], "\(path).args", expand: true).map(\.0)
            if let env = m["env"] {
                for (variable, varKey, valueNode) in r.namedEntries(env, "\(path).env") {
                    if !EnvironmentExpansion.isVariableName(variable) {
                        r.error(varKey, "\(path).env: '\(variable)' is not an environment variable name")
                    }
                    if let v = r.string(valueNode, "\(path).env.\(variable)", expand: true) { server.env[variable] = v }
                }
            }
            server.cwd = r.string(m["cwd"], "\(path).cwd")
            if let cwd = server.cwd, let node = m["cwd"] {
                // A server started in a folder that is not there fails at every restart: say so now.
                if cwd.isEmpty || cwd.utf8.contains(0) {
                    r.error(node, "\(path).cwd must name a folder, found '\(cwd)'")
                } else if let full = r.resolved(cwd) {
                    var isDirectory: ObjCBool = false
                    if !FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) {
                        r.error(node, "\(path).cwd: \(full) does not exist")
                    } else if !isDirectory.boolValue {
                        r.error(node, "\(path).cwd: \(full) is not a folder")
                    }
                }
            }
            if let v = r.choice(m["risk"], "\(path).risk", PolicyConfig.Risk.self) { server.risk = v }
            if let tools = m["tools"] {
                server.tools = r.stringList(tools, "\(path).tools").compactMap { tool, item in
                    let full = "\(name)\(MCPServerConfig.separator)\(tool)"
                    if full.count > MCPServerConfig.maxToolNameLength {
                        r.error(item, "bridged tool name '\(full)' is \(full.count) characters, over the \(MCPServerConfig.maxToolNameLength) clients accept")
                        return nil
                    }
                    return tool
                }
            }
            server.timeout = r.duration(m["timeout"], "\(path).timeout")
            server.tasks = r.choice(m["tasks"], "\(path).tasks", TaskMode.self)
            server.taskTimeout = r.duration(m["task_timeout"], "\(path).task_timeout")
            if let v = r.duration(m["start_timeout"], "\(path).start_timeout") { server.startTimeout = v }
            if let v = r.choice(m["pin"], "\(path).pin", PinChoice.self) { server.pin = v.rawValue }
            if let node = m["sandbox"] { server.sandbox = Self.sandbox(node, "\(path).sandbox", r) }
            c.servers.append(server)
        }
        return c
    }
}

extension PluginsDecoder {
    /// `command:` (a local server) or `url:` (a remote one), exactly one, with the keys only the other takes refused.
    static func endpoint(_ m: [String: Node], _ path: String, _ node: Node, _ r: ManifestReader) -> (command: String?, remote: RemoteServerConfig?)? {
        switch (m["command"], m["url"]) {
        case (nil, nil):
            r.error(node, "\(path) needs `command:` (a program to start) or `url:` (a remote MCP server)")
            return nil
        case (let command?, nil):
            for key in RemoteServerConfig.keys where m[key] != nil {
                r.error(m[key], "\(path).\(key) is for a remote server (`url:`); this one runs `command:`")
            }
            return r.string(command, "\(path).command", expand: true).map { ($0, nil) }
        case (_?, let url?):
            r.error(url, "\(path) has both `command:` and `url:`; a server is either started here or reached there")
            return nil
        case (nil, let urlNode?):
            for key in ["args", "env", "cwd", "sandbox"] where m[key] != nil {
                r.error(m[key], "\(path).\(key) is for a server started here (`command:`); this one is remote (`url:`)")
            }
            guard let url = r.string(urlNode, "\(path).url", expand: true) else { return nil }
            guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = parts.host, !host.isEmpty else {
                r.error(urlNode, "\(path).url must be an http:// or https:// URL with a host, found '\(url.utf8Prefix(200))'")
                return nil
            }
            var remote = RemoteServerConfig(url: url)
            if let v = r.choice(m["transport"], "\(path).transport", RemoteEndpoint.Transport.self) { remote.transport = v }
            if let v = r.choice(m["protocol"], "\(path).protocol", RemoteEndpoint.Revision.self) { remote.revision = v }
            if remote.transport == .sse, remote.revision == .stateless, let node = m["protocol"] {
                r.error(node, "\(path).protocol: the HTTP+SSE transport predates the stateless revision; use `transport: streamable_http`")
            }
            switch r.string(m["auth"], "\(path).auth") {
            case nil: break
            case "oauth": remote.oauth = RemoteServerConfig.OAuthConfig()
            case let other?: r.error(m["auth"], "\(path).auth must be oauth, found '\(other.utf8Prefix(60))' (a static token goes in `headers:`)")
            }
            if let v = r.choice(m["credentials"], "\(path).credentials", RemoteEndpoint.Credentials.self) {
                remote.credentials = v
                if remote.oauth == nil, let node = m["credentials"] {
                    r.error(node, "\(path).credentials is about OAuth logins, which this server does not use (set its auth to oauth)")
                }
            }
            if let node = m["oauth"] {
                if remote.oauth == nil { r.error(node, "\(path).oauth configures the OAuth client, which this server does not use (set its auth to oauth)") }
                if let o = r.mapping(node, "\(path).oauth", known: RemoteServerConfig.OAuthConfig.keys) {
                    var oauth = remote.oauth ?? RemoteServerConfig.OAuthConfig()
                    oauth.clientId = r.string(o["client_id"], "\(path).oauth.client_id", expand: true)
                    if let variable = r.string(o["client_secret_env"], "\(path).oauth.client_secret_env") {
                        oauth.clientSecretEnv = variable
                        if let value = r.environment[variable], !value.isEmpty { oauth.clientSecret = value } else {
                            r.error(o["client_secret_env"], "\(path).oauth.client_secret_env: \(variable) is not set")
                        }
                        if oauth.clientId == nil { r.error(o["client_secret_env"], "\(path).oauth.client_secret_env needs a client_id") }
                    }
                    oauth.scopes = r.stringList(o["scopes"], "\(path).oauth.scopes").map(\.0)
                    if remote.oauth != nil { remote.oauth = oauth }
                }
            }
            if let headers = m["headers"] {
                for (header, headerKey, valueNode) in r.namedEntries(headers, "\(path).headers") {
                    if let problem = RemoteServerConfig.headerProblem(header) {
                        r.error(headerKey, "\(path).headers: '\(header.utf8Prefix(80))' \(problem)")
                        continue
                    }
                    guard let v = r.string(valueNode, "\(path).headers.\(header)", expand: true) else { continue }
                    if v.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                        r.error(valueNode, "\(path).headers.\(header) must be one line")
                        continue
                    }
                    remote.headers[header] = v
                }
            }
            return (nil, remote)
        }
    }

    /// `sandbox:`: its network, and the paths it may read and write, each of which must exist.
    static func sandbox(_ node: Node, _ path: String, _ r: ManifestReader) -> SandboxConfig? {
        guard let m = r.mapping(node, path, known: SandboxConfig.keys) else { return nil }
        var sandbox = SandboxConfig(location: ManifestReader.location(node))
        if let v = r.choice(m["network"], "\(path).network", SandboxNetwork.self) { sandbox.network = v }
        for key in ["read", "write"] {
            var paths: [String] = []
            for (text, item) in r.stringList(m[key], "\(path).\(key)", expand: true) {
                guard !text.isEmpty, !text.utf8.contains(0) else {
                    r.error(item, "\(path).\(key) must name files or folders, found '\(text)'")
                    continue
                }
                let full = r.resolved(text) ?? text
                guard PathText.normalize(full) != "/" else {
                    r.error(item, "\(path).\(key) names / (the whole machine: no sandbox at all); list the folders it needs")
                    continue
                }
                // A path that is not there cannot be bound: the server would never start.
                guard r.resolved(text) == nil || FileManager.default.fileExists(atPath: full) else {
                    r.error(item, "\(path).\(key): \(full) does not exist")
                    continue
                }
                paths.append(full)
            }
            if key == "read" { sandbox.read = paths } else { sandbox.write = paths }
        }
        return sandbox
    }
}

/// `plugins.mcp.servers.NAME.pin`.
enum PinChoice: String, CaseIterable { case warn, strict }
