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

    @Test(arguments: ["auto", "legacy"])
    func thePythonSDKListsAndCallsToolsOverStreamableHTTP(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let client = try sdkClient(api, agent: "reader", mode: mode)
            let connected = await client.nextJSON()
            #expect(connected["protocol"] as? String == "2025-11-25", "\(client.stderr)")
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

    @Test func thePythonSDKHearsListChangedAfterAReload() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let client = try sdkClient(api, agent: "reader", mode: "auto", extra: ["--wait-list-changed", "60"])
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

    @Test func idleSessionsExpireAndTheSessionCapHolds() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { session_idle: 1s, max_sessions: 2 }"))
            let first = await initialize(api, as: "reader")
            let second = await initialize(api, as: "reader")
            #expect(first.status == 200 && second.status == 200)
            #expect(await initialize(api, as: "reader").status == 503)
            try await Task.sleep(for: .milliseconds(1500))
            var headers = Self.accept
            headers["Mcp-Session-Id"] = first.headers["mcp-session-id"] ?? ""
            #expect(await api.call("POST", "/mcp", as: "reader", body: #"{"jsonrpc": "2.0", "id": 2, "method": "ping"}"#, headers: headers).status == 404)
            #expect(await initialize(api, as: "reader").status == 200, "expired sessions free their slots")
        }
    }
}
