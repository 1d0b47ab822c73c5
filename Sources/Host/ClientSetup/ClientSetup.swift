import Base
import Foundation

/// The MCP clients `agenthub client setup` configures, and where each keeps its servers.
public enum MCPClientKind: String, CaseIterable, Sendable {
    case claudeDesktop = "claude-desktop"
    case claudeCode = "claude-code"
    case cursor
    case codex
    case vscode

    /// Its configuration file: the user's (the project's for VS Code, `.vscode/mcp.json` in `folder`).
    public func defaultFile(home: String, folder: String, environment: [String: String]) -> String {
        switch self {
        case .claudeDesktop:
            #if os(macOS)
            return home + "/Library/Application Support/Claude/claude_desktop_config.json"
            #else
            return (environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config") + "/Claude/claude_desktop_config.json"
            #endif
        case .claudeCode: return home + "/.claude.json"
        case .cursor: return home + "/.cursor/mcp.json"
        case .codex: return (environment["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.codex") + "/config.toml"
        case .vscode: return PathText.resolve(".vscode/mcp.json", against: folder)
        }
    }
}

/// What a client is to run or reach: this host over stdio (`agenthub mcp …`) or over HTTP with a key.
public enum ClientTransport: Sendable, Equatable {
    case stdio(command: String, arguments: [String])
    case http(url: String, key: String)
}

/// Writes AgentHub into a client's MCP configuration: the one entry `name` set (added, or replaced
/// in place), every other entry and setting of the file kept as it was, the old file kept beside it.
public enum ClientSetup {
    /// The file's new text: `existing` (nil: no file yet) with the entry set.
    public static func merged(_ client: MCPClientKind, name: String, transport: ClientTransport, existing: String?) throws(HostError) -> String {
        if client == .codex { return codex(name: name, transport: transport, existing: existing ?? "") }
        var root: OrderedJSON
        do { root = try OrderedJSON.parse(existing ?? "") } catch {
            throw HostError(.clientSetup, "it is not plain JSON (\(error.description)); nothing was changed")
        }
        guard case .object = root else { throw HostError(.clientSetup, "it is not a JSON object; nothing was changed") }
        let key = client == .vscode ? "servers" : "mcpServers"
        var servers = root[key] ?? .object([])
        guard case .object = servers else { throw HostError(.clientSetup, "its \"\(key)\" is not an object; nothing was changed") }
        servers.set(name, entry(client, transport))
        root.set(key, servers)
        return root.text() + "\n"
    }

    /// The entry as `client` wants it.
    static func entry(_ client: MCPClientKind, _ transport: ClientTransport) -> OrderedJSON {
        let strings: ([String]) -> OrderedJSON = { .array($0.map { .string($0) }) }
        switch (client, transport) {
        case (.claudeCode, .stdio(let command, let arguments)), (.vscode, .stdio(let command, let arguments)):
            return .object([("type", .string("stdio")), ("command", .string(command)), ("args", strings(arguments))])
        case (_, .stdio(let command, let arguments)):
            return .object([("command", .string(command)), ("args", strings(arguments))])
        case (.claudeCode, .http(let url, let key)), (.vscode, .http(let url, let key)):
            return .object([("type", .string("http")), ("url", .string(url)), ("headers", .object([("Authorization", .string("Bearer " + key))]))])
        case (.cursor, .http(let url, let key)):
            return .object([("url", .string(url)), ("headers", .object([("Authorization", .string("Bearer " + key))]))])
        case (_, .http(let url, let key)):
            // Claude Desktop's file runs commands only: mcp-remote carries stdio to the HTTP endpoint.
            return .object([("command", .string("npx")),
                            ("args", strings(["-y", "mcp-remote", url, "--header", "Authorization:${AGENTHUB_AUTHORIZATION}"])),
                            ("env", .object([("AGENTHUB_AUTHORIZATION", .string("Bearer " + key))]))])
        }
    }

    /// Codex's `config.toml`: the `[mcp_servers.NAME]` table (and its sub-tables) replaced, every
    /// other line kept as written.
    static func codex(name: String, transport: ClientTransport, existing: String) -> String {
        let header = "mcp_servers.\(bareOrQuoted(name))"
        var kept: [Substring] = []
        var skipping = false
        for line in existing.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") {
                let table = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
                skipping = isTable(table, of: name)
            }
            if !skipping { kept.append(line) }
        }
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty { kept.removeLast() }
        var block = ["[\(header)]"]
        switch transport {
        case .stdio(let command, let arguments):
            block.append("command = \(tomlString(command))")
            block.append("args = [" + arguments.map(tomlString).joined(separator: ", ") + "]")
        case .http(let url, let key):
            block.append("url = \(tomlString(url))")
            block.append("http_headers = { \"Authorization\" = \(tomlString("Bearer " + key)) }")
        }
        let before = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n\n"
        return before + block.joined(separator: "\n") + "\n"
    }

    /// Whether a TOML table header (without its brackets) is `mcp_servers.NAME` or one of its sub-tables.
    static func isTable(_ table: String, of name: String) -> Bool {
        let parts = table.split(separator: ".", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 2, parts[0] == "mcp_servers" else { return false }
        let second = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        return second == name
    }

    static func bareOrQuoted(_ name: String) -> String {
        name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") } ? name : tomlString(name)
    }

    static func tomlString(_ text: String) -> String {
        OrderedJSON.quoted(text)  // a TOML basic string escapes as JSON does
    }

    /// Writes `text` to `path`: the folder made, the old file copied to `PATH.agenthub-backup`, the new
    /// one written whole and renamed into place (0600 when new: it may hold a key). The backup's path.
    @discardableResult
    public static func write(_ text: String, to path: String) throws(HostError) -> String? {
        let files = FileManager.default
        // A file kept as a link (a dotfiles repository) is written where the link points, and stays a link.
        var path = path
        if let target = try? files.destinationOfSymbolicLink(atPath: path) {
            path = target.hasPrefix("/") ? target : PathText.resolve(target, against: PathText.parent(path))
        }
        let folder = PathText.parent(path)
        do { try files.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw HostError(.clientSetup, "cannot make \(folder): \(error.localizedDescription)")
        }
        var backup: String?
        var mode: Int = 0o600
        if files.fileExists(atPath: path) {
            let copy = path + ".agenthub-backup"
            try? files.removeItem(atPath: copy)
            do { try files.copyItem(atPath: path, toPath: copy) } catch {
                throw HostError(.clientSetup, "cannot back up \(path): \(error.localizedDescription); nothing was changed")
            }
            backup = copy
            if let existing = (try? files.attributesOfItem(atPath: path))?[.posixPermissions] as? Int { mode = existing }
        }
        let temporary = path + ".agenthub-new"
        guard files.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw HostError(.clientSetup, "cannot write \(temporary); nothing was changed")
        }
        guard rename(temporary, path) == 0 else {
            try? files.removeItem(atPath: temporary)
            throw HostError(.clientSetup, "cannot replace \(path): \(String(cString: strerror(errno))); nothing was changed")
        }
        return backup
    }
}
