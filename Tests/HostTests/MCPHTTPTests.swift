import Base
import Foundation
import TestSupport
import Testing
@testable import Host

/// MCP over Streamable HTTP at `/mcp`: the Python `mcp` SDK's own client, and the protocol's edges.
@Suite(.serialized) struct MCPHTTPTests {
    func sdkClient(_ api: APIHost, agent: String, mode: String, extra: [String] = []) throws -> RunningProcess {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        return try RunningProcess(python, [packageRoot + "/Tests/Interop/mcp_http_client.py", "http://127.0.0.1:\(api.port)/mcp",
                                           api.keys[agent]!, mode] + extra, in: api.dir, environment: ProcessInfo.processInfo.environment)
    }

    /// `auto` is the SDK's default: it probes `server/discover` and speaks the stateless 2026-07-28
    /// revision; `legacy` is the initialize handshake and a session.
    @Test(arguments: [("auto", "2026-07-28"), ("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28")])
    func thePythonSDKListsAndCallsToolsOverStreamableHTTP(mode: String, protocol expected: String) async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let client = try sdkClient(api, agent: "reader", mode: mode)
            let connected = await client.nextJSON()
            #expect(connected["protocol"] as? String == expected, "\(client.stderr)")
            let tools = await client.nextJSON()
            let names = tools["names"] as? [String] ?? []
            #expect(names.contains("memory_write") && names.contains("read_file") && !names.contains("write_file"), "\(tools)")
            let wrote = await client.nextJSON()
            #expect(wrote["is_error"] as? Bool == false, "\(wrote)")
            let searched = await client.nextJSON()
            #expect((searched["text"] as? String)?.contains("streamable") == true, "\(searched)")
            let denied = await client.nextJSON()
            #expect(denied["refused"] as? Bool == true)
            #expect(await client.waitExit(timeout: 60))
            // The calls ran as the key's agent.
            let events = await api.events(as: "reader", query: "&type=tool.result")
            #expect(events.contains { $0["tool"] as? String == "memory_write" && $0["agent"] as? String == "reader" })
        }
    }

    /// In `auto` (2026-07-28) the change arrives on a `subscriptions/listen` stream; in `legacy`, on
    /// the session's GET stream.
    @Test(arguments: ["auto", "legacy"])
    func thePythonSDKHearsListChangedAfterAReload(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let client = try sdkClient(api, agent: "reader", mode: mode, extra: ["--wait-list-changed", "60"])
            var ready = false
            for _ in 0..<6 {
                if await client.nextJSON()["step"] as? String == "READY" { ready = true; break }
            }
            #expect(ready, "\(client.stderr)")
            let widened = APIHost.manifest().replacingOccurrences(of: "memory_write, read_file]", with: "memory_write, read_file, list_files]")
            try write(widened, to: "registry.yaml", in: dir)
            let changed = await client.nextJSON()
            #expect(changed["step"] as? String == "LIST_CHANGED", "\(changed) \(client.stderr)")
            #expect((changed["names"] as? [String])?.contains("list_files") == true)
        }
    }

    static let accept = ["Accept": "application/json, text/event-stream"]

    func initialize(_ api: APIHost, as agent: String) async -> HTTPAnswer {
        await api.call("POST", "/mcp", as: agent, body: #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}"#,
                       headers: Self.accept)
    }

    @Test func sessionsBelongToTheirAgentAndEndWhenDeleted() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let opened = await initialize(api, as: "reader")
            #expect(opened.status == 200)
            let session = try #require(opened.headers["mcp-session-id"])
            #expect((opened.json["result"] as? [String: Any])?["protocolVersion"] as? String == "2025-11-25")
            let list = #"{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}"#
            var headers = Self.accept
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = "2025-11-25"
            let listed = await api.call("POST", "/mcp", as: "reader", body: list, headers: headers)
            #expect(listed.status == 200 && listed.body.contains("memory_write"))

            // Another agent's key cannot use the session; no session, or a made-up one, is refused.
            #expect(await api.call("POST", "/mcp", as: "writer", body: list, headers: headers).status == 404)
            #expect(await api.call("POST", "/mcp", as: "reader", body: list, headers: Self.accept).status == 400)
            var bogus = headers
            bogus["Mcp-Session-Id"] = "0123456789abcdef"
            #expect(await api.call("POST", "/mcp", as: "reader", body: list, headers: bogus).status == 404)
            var badVersion = headers
            badVersion["MCP-Protocol-Version"] = "1999-01-01"
            #expect(await api.call("POST", "/mcp", as: "reader", body: list, headers: badVersion).status == 400)

            // Malformed input gets a JSON-RPC error, never a crash.
            let garbage = await api.call("POST", "/mcp", as: "reader", body: "{not json", headers: headers)
            #expect(garbage.status == 400 && (garbage.json["error"] as? [String: Any])?["code"] as? Int == -32700)
            #expect(await api.call("POST", "/mcp", as: "reader", body: "[]", headers: headers).status == 400)
            #expect(await api.call("POST", "/mcp", as: "reader", body: list, headers: ["Accept": "text/html", "Mcp-Session-Id": session]).status == 406)

            // A notification is accepted with 202; an answer streams when the client accepts only SSE.
            let note = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#, headers: headers)
            #expect(note.status == 202)
            var sseOnly = headers
            sseOnly["Accept"] = "text/event-stream"
            let streamed = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 3, "method": "ping"}"#, headers: sseOnly)
            #expect(streamed.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(streamed.body.contains(#"data: {"id":3,"jsonrpc":"2.0","result":{}}"#), "\(streamed.body)")

            #expect(await api.call("DELETE", "/mcp", as: "reader", headers: headers).status == 204)
            #expect(await api.call("POST", "/mcp", as: "reader", body: list, headers: headers).status == 404)
        }
    }

    static func envelope(_ version: String = "2026-07-28") -> String {
        #""_meta": {"io.modelcontextprotocol/protocolVersion": "\#(version)", "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}}"#
    }

    @Test func statelessRequestsCarryTheirEnvelopeAndAreCheckedAgainstTheirHeaders() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            var headers = Self.accept
            headers["MCP-Protocol-Version"] = "2026-07-28"
            headers["Mcp-Method"] = "server/discover"
            let discover = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {\#(Self.envelope())}}"#, headers: headers)
            #expect(discover.status == 200, "\(discover.body)")
            let result = try #require(discover.json["result"] as? [String: Any])
            #expect((result["supportedVersions"] as? [String])?.prefix(2) == ["2026-07-28", "2025-11-25"])
            #expect(result["resultType"] as? String == "complete")
            #expect(((result["_meta"] as? [String: Any])?["io.modelcontextprotocol/serverInfo"] as? [String: Any])?["name"] as? String == "agenthub")
            #expect(discover.headers["mcp-session-id"] == nil, "no session on the stateless revision")

            headers["Mcp-Method"] = "tools/call"
            headers["Mcp-Name"] = "memory_write"
            let call = #"{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "memory_write", "arguments": {"text": "stateless", "type": "core"}, \#(Self.envelope())}}"#
            let called = await api.call("POST", "/mcp", as: "reader", body: call, headers: headers)
            #expect(called.status == 200 && (called.json["result"] as? [String: Any])?["isError"] as? Bool == false, "\(called.body)")

            func code(_ answer: HTTPAnswer) -> Int? { (answer.json["error"] as? [String: Any])?["code"] as? Int }
            var wrongName = headers
            wrongName["Mcp-Name"] = "memory_get"
            let mismatch = await api.call("POST", "/mcp", as: "reader", body: call, headers: wrongName)
            #expect(mismatch.status == 400 && code(mismatch) == -32020)
            var oldHeader = headers
            oldHeader["MCP-Protocol-Version"] = "2025-11-25"
            #expect(code(await api.call("POST", "/mcp", as: "reader", body: call, headers: oldHeader)) == -32020)
            let future = call.replacingOccurrences(of: "2026-07-28", with: "2099-01-01")
            var futureHeader = headers
            futureHeader["MCP-Protocol-Version"] = "2099-01-01"
            let unsupported = await api.call("POST", "/mcp", as: "reader", body: future, headers: futureHeader)
            #expect(unsupported.status == 400 && code(unsupported) == -32022, "\(unsupported.body)")
            #expect(((unsupported.json["error"] as? [String: Any])?["data"] as? [String: Any])?["supported"] as? [String] == ["2026-07-28"])
            let bare = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}"#,
                                      headers: ["Accept": "application/json", "MCP-Protocol-Version": "2026-07-28"])
            #expect(bare.status == 400 && code(bare) == -32602)
            headers["Mcp-Method"] = "no/such"
            headers["Mcp-Name"] = nil
            let unknown = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 4, "method": "no/such", "params": {\#(Self.envelope())}}"#, headers: headers)
            #expect(unknown.status == 404 && code(unknown) == -32601)
            let note = await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}}"#, headers: headers)
            #expect(note.status == 202)
        }
    }

    /// mcp-fuzzer over Streamable HTTP (protocol mode, aggressive, and tools mode), with a key: no
    /// crash, and the host still answers afterwards.
    @Test func mcpFuzzerOverStreamableHTTPFindsNoCrash() async throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        let fuzzer = PathText.parent(python) + "/mcp-fuzzer"
        try #require(FileManager.default.isExecutableFile(atPath: fuzzer), "mcp-fuzzer is not in the test virtualenv: run `make test`")
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let endpoint = "http://127.0.0.1:\(api.port)/mcp"
            for mode in [["--mode", "protocol", "--runs-per-type", "3", "--protocol-phase", "aggressive"], ["--mode", "tools", "--runs", "4"]] {
                let command = (["MCP_API_KEY=\(api.keys["reader"]!)", fuzzer] + mode + ["--protocol", "streamablehttp", "--endpoint", endpoint,
                                                                                      "--auth-env", "--timeout", "20", "--seed", "20261202"]).joined(separator: " ")
                let result = try await run("/bin/sh", ["-c", "exec env " + command], in: dir)
                #expect(result.status == 0, "mcp-fuzzer \(mode[1]): \(result.stdout.suffix(2000)) \(result.stderr.suffix(1000))")
                let crashes = result.stdout.split(separator: "\n").filter { $0.contains("crashes") && !$0.contains(" 0 crashes") }
                #expect(crashes.isEmpty, "\(crashes)")
            }
            #expect(await http(api.port, "GET", "/health")?.status == 200, "the host answers after the fuzzing")
            #expect(!api.host.stderr.contains("Fatal error"))
        }
    }

    @Test func idleSessionsExpireAndTheSessionCapHolds() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { session_idle: 4s, max_sessions: 3, max_sessions_per_agent: 2 }"))
            let first = await initialize(api, as: "reader")
            let second = await initialize(api, as: "reader")
            #expect(first.status == 200 && second.status == 200)
            let third = await initialize(api, as: "reader")
            #expect(third.status == 503 && third.body.contains("max_sessions_per_agent"), "an agent's share")
            #expect(await initialize(api, as: "writer").status == 200)
            let full = await initialize(api, as: "boss")
            #expect(full.status == 503 && full.body.contains("http.max_sessions)"), "the host's cap")
            try await Task.sleep(for: .milliseconds(4500))
            var headers = Self.accept
            headers["Mcp-Session-Id"] = first.headers["mcp-session-id"] ?? ""
            #expect(await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 2, "method": "ping"}"#, headers: headers).status == 404)
            #expect(await initialize(api, as: "boss").status == 200, "expired sessions free their slots")
        }
    }
}
