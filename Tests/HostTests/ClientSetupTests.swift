import Foundation
import Testing
import TestSupport
@testable import Host

/// `agenthub client setup`: AgentHub written into each client's own configuration file, sample
/// files with other servers and settings in them, merged without losing anything.
@Suite struct ClientSetupTests {
    static let stdio = ClientTransport.stdio(command: "/opt/agenthub/agenthub", arguments: ["mcp", "--config", "/srv/registry.yaml", "--agent", "cursor"])
    static let http = ClientTransport.http(url: "http://127.0.0.1:8080/mcp", key: "ah_secret")

    static let claudeDesktop = """
        {
          "globalShortcut": "Ctrl+Space",
          "mcpServers": {
            "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/Desktop"] },
            "agenthub": { "command": "/old/agenthub", "args": ["mcp"] },
            "time": { "command": "uvx", "args": ["mcp-server-time"], "env": { "TZ": "Europe/Paris" } }
          }
        }
        """
    static let claudeCode = """
        {"numStartups": 42, "projects": {"/home/me/app": {"allowedTools": [], "mcpServers": {}}}, "userID": "abc\\u00e9", "mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}, "tipsHistory": {"x": 3.0e2}}
        """
    static let codexConfig = """
        model = "o4-mini"
        # my servers
        [mcp_servers.docs]
        command = "docs-mcp"

        [mcp_servers.agenthub]
        command = "/old/agenthub"
        args = ["mcp"]

        [mcp_servers.agenthub.env]
        OLD = "1"

        [mcp_servers.github]
        url = "https://api.githubcopilot.com/mcp/"

        [profiles.fast]
        model = "gpt-5"
        """

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func claudeDesktopKeepsItsOtherServersAndSettingsAndTheEntryIsReplacedInPlace() throws {
        let text = try ClientSetup.merged(.claudeDesktop, name: "agenthub", transport: Self.stdio, existing: Self.claudeDesktop)
        let servers = json(text)["mcpServers"] as? [String: Any] ?? [:]
        #expect(json(text)["globalShortcut"] as? String == "Ctrl+Space")
        #expect(Set(servers.keys) == ["filesystem", "agenthub", "time"])
        #expect((servers["agenthub"] as? [String: Any])?["command"] as? String == "/opt/agenthub/agenthub")
        #expect(((servers["time"] as? [String: Any])?["env"] as? [String: Any])?["TZ"] as? String == "Europe/Paris")
        // In place: the servers keep their order; a second run changes nothing.
        #expect(text.range(of: "filesystem")!.lowerBound < text.range(of: "agenthub")!.lowerBound && text.range(of: "agenthub")!.lowerBound < text.range(of: "\"time\"")!.lowerBound)
        #expect(try ClientSetup.merged(.claudeDesktop, name: "agenthub", transport: Self.stdio, existing: text) == text)
        // Over HTTP Claude Desktop runs mcp-remote with the key in its environment.
        let remote = json(try ClientSetup.merged(.claudeDesktop, name: "agenthub", transport: Self.http, existing: nil))
        let entry = (remote["mcpServers"] as? [String: Any])?["agenthub"] as? [String: Any]
        #expect(entry?["command"] as? String == "npx" && (entry?["args"] as? [String])?.contains("http://127.0.0.1:8080/mcp") == true)
        #expect((entry?["env"] as? [String: Any])?["AGENTHUB_AUTHORIZATION"] as? String == "Bearer ah_secret")
    }

    @Test func claudeCodeKeepsItsStateAndNumbersAsWritten() throws {
        let text = try ClientSetup.merged(.claudeCode, name: "agenthub", transport: Self.http, existing: Self.claudeCode)
        let root = json(text)
        #expect(root["numStartups"] as? Int == 42 && root["userID"] as? String == "abcé" && root["projects"] != nil)
        #expect(text.contains("3.0e2"), "a number is kept as written")
        let servers = root["mcpServers"] as? [String: Any] ?? [:]
        #expect((servers["sentry"] as? [String: Any])?["url"] as? String == "https://mcp.sentry.dev/mcp")
        let entry = servers["agenthub"] as? [String: Any]
        #expect(entry?["type"] as? String == "http" && (entry?["headers"] as? [String: Any])?["Authorization"] as? String == "Bearer ah_secret")
    }

    @Test func cursorAndVSCodeGetTheirOwnShapes() throws {
        let cursor = json(try ClientSetup.merged(.cursor, name: "agenthub", transport: Self.stdio, existing: #"{"mcpServers": {"x": {"url": "https://x"}}}"#))
        #expect(((cursor["mcpServers"] as? [String: Any])?["agenthub"] as? [String: Any])?["args"] as? [String] == ["mcp", "--config", "/srv/registry.yaml", "--agent", "cursor"])
        #expect((cursor["mcpServers"] as? [String: Any])?["x"] != nil)
        let vscode = json(try ClientSetup.merged(.vscode, name: "hub", transport: Self.stdio, existing: #"{"inputs": [], "servers": {"y": {"type": "stdio", "command": "y"}}}"#))
        #expect(((vscode["servers"] as? [String: Any])?["hub"] as? [String: Any])?["type"] as? String == "stdio")
        #expect((vscode["servers"] as? [String: Any])?["y"] != nil && vscode["inputs"] != nil)
    }

    @Test func aFileWithCommentsOrBrokenJSONIsRefusedWithWhereAndNotTouched() {
        #expect(throws: HostError.self) { try ClientSetup.merged(.vscode, name: "a", transport: Self.stdio, existing: "{\n  // my servers\n  \"servers\": {}\n}") }
        do {
            _ = try ClientSetup.merged(.vscode, name: "a", transport: Self.stdio, existing: "{\n  // my servers\n  \"servers\": {}\n}")
        } catch {
            #expect(error.message.contains("2:3") && error.message.contains("comment") && error.message.contains("nothing was changed"), "\(error.message)")
        }
        #expect(throws: HostError.self) { try ClientSetup.merged(.cursor, name: "a", transport: Self.stdio, existing: #"{"mcpServers": {"x": 1,}}"#) }
        #expect(throws: HostError.self) { try ClientSetup.merged(.cursor, name: "a", transport: Self.stdio, existing: #"{"mcpServers": []}"#) }
    }

    @Test func codexKeepsEveryOtherTableAndCommentAndReplacesItsOwnWithItsSubTables() throws {
        let text = try ClientSetup.merged(.codex, name: "agenthub", transport: Self.stdio, existing: Self.codexConfig)
        #expect(text.contains("model = \"o4-mini\"") && text.contains("# my servers") && text.contains("[mcp_servers.docs]"))
        #expect(text.contains("[mcp_servers.github]") && text.contains("[profiles.fast]") && text.contains("model = \"gpt-5\""))
        #expect(!text.contains("/old/agenthub") && !text.contains("OLD = \"1\"") && !text.contains("[mcp_servers.agenthub.env]"))
        #expect(text.components(separatedBy: "[mcp_servers.agenthub]").count == 2)
        #expect(text.contains(#"command = "/opt/agenthub/agenthub""#) && text.contains(#"args = ["mcp", "--config", "/srv/registry.yaml", "--agent", "cursor"]"#))
        #expect(try ClientSetup.merged(.codex, name: "agenthub", transport: Self.stdio, existing: text) == text)
        let remote = try ClientSetup.merged(.codex, name: "agenthub", transport: Self.http, existing: "")
        #expect(remote == "[mcp_servers.agenthub]\nurl = \"http://127.0.0.1:8080/mcp\"\nhttp_headers = { \"Authorization\" = \"Bearer ah_secret\" }\n")
    }

    @Test func theCommandWritesAConfigurationTheClientCanRunKeepingABackup() async throws {
        try await withTemporaryDirectory { dir in
            try write("version: 1\nhost: { database: registry.db, cache: cache }\npolicy: { default: deny }\nroles:\n  worker: {}\n", to: "registry.yaml", in: dir)
            try write(#"{"numStartups": 3, "mcpServers": {"other": {"type": "stdio", "command": "other"}}}"#, to: "home/.claude.json", in: dir)
            let environment = ["HOME": dir + "/home"]
            let undeclared = try await run(agenthubBinary(), ["client", "setup", "claude-code"], in: dir, environment: environment)
            #expect(undeclared.status != 0 && undeclared.stderr.contains("--role"), "\(undeclared.stderr)")
            let made = try await run(agenthubBinary(), ["client", "setup", "claude-code", "--role", "worker"], in: dir, environment: environment)
            #expect(made.status == 0, "\(made.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/home/.claude.json.agenthub-backup"))
            let config = json(try String(contentsOfFile: dir + "/home/.claude.json", encoding: .utf8))
            #expect(config["numStartups"] as? Int == 3 && (config["mcpServers"] as? [String: Any])?["other"] != nil)
            let entry = try #require((config["mcpServers"] as? [String: Any])?["agenthub"] as? [String: Any])
            // A configuration kept as a link is written where it points, and stays a link.
            try write("{}", to: "dotfiles/cursor.json", in: dir)
            try FileManager.default.createDirectory(atPath: dir + "/home/.cursor", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/home/.cursor/mcp.json", withDestinationPath: dir + "/dotfiles/cursor.json")
            #expect(try await run(agenthubBinary(), ["client", "setup", "cursor", "--role", "worker"], in: dir, environment: environment).status == 0)
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/home/.cursor/mcp.json")) == dir + "/dotfiles/cursor.json")
            #expect((try String(contentsOfFile: dir + "/dotfiles/cursor.json", encoding: .utf8)).contains("\"agenthub\""))
            // What the client would run answers initialize.
            let process = try RunningProcess(try #require(entry["command"] as? String), try #require(entry["args"] as? [String]), in: dir + "/home")
            defer { process.closeInput() }
            process.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"claude-code","version":"1"}}}"# + "\n")
            let answer = await process.nextJSON(timeout: 60)
            #expect((answer["result"] as? [String: Any])?["protocolVersion"] as? String == "2025-11-25", "\(answer) \(process.stderr)")
        }
    }
}
