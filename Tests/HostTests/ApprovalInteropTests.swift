import Base
import Foundation
import Registry
import Testing
import TestSupport

/// Approvals as real clients and operators meet them: the Python `mcp` SDK answering
/// `elicitation/create` over stdio and Streamable HTTP, `agenthub approvals` from a second process,
/// an admin key over HTTP, racing approvers, and a host restart.
@Suite(.serialized) struct ApprovalInteropTests {
    /// The HTTP test manifest with `memory_write` asking instead of allowed.
    static let askingManifest = APIHost.manifest()
        .replacingOccurrences(of: "memory_search, memory_write, read_file]", with: "memory_search, read_file]\n    - ask: [memory_write]")
    /// The same, where the caller's client may grant as much as an operator (`client_grants: agent`).
    static let clientGrantsManifest = askingManifest
        .replacingOccurrences(of: "    - ask: [memory_write]", with: "    - ask: [memory_write]\n      client_grants: agent")

    static let stdioManifest = """
        version: 1
        host: { database: registry.db }
        policy:
          default: deny
          approval_timeout: 2m
          rules:
            - allow: [memory_search]
            - ask: [memory_write]
              client_grants: agent
        roles:
          researcher: {}
        plugins:
          memory: {}
        """

    /// `agenthub mcp` for a client without elicitation, with a `memory_write` call waiting for
    /// approval (found with `agenthub approvals list`, as an operator would).
    func waitingStdioCall(_ dir: String, agent: String, text: String) async throws -> (RunningProcess, String) {
        try Self.stdioManifest.write(toFile: dir + "/registry.yaml", atomically: true, encoding: .utf8)
        let mcp = try RunningProcess(agenthubBinary(), ["mcp", "--role", "researcher", "--agent", agent, "--no-sync"], in: dir)
        mcp.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"plain","version":"1"}}}"# + "\n")
        _ = await mcp.nextJSON()
        mcp.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"memory_write","arguments":{"type":"core","text":"\#(text)"}}}"# + "\n")
        for _ in 0..<300 {
            let listed = try await run(agenthubBinary(), ["approvals", "list", "--json"], in: dir)
            let pending = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
            if let id = pending.first?["id"] as? String { return (mcp, id) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HTTPTestError("no pending request: \(mcp.stderr)")
    }

    func python() throws -> String { try #require(testPython(), "no test virtualenv: run `make test`") }

    func report(_ result: (status: Int32, stdout: String, stderr: String)) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                     "approval_client.py printed no report (exit \(result.status)): \(result.stderr.suffix(2000))")
    }

    /// What approval_client.py must have seen: accept runs the call, decline denies it, a session
    /// grant lets the next call run without a question.
    func expectElicitedAnswers(_ out: [String: Any], protocol expected: String = "2025-11-25") {
        #expect(out["protocol"] as? String == expected)
        #expect((out["approved"] as? [String: Any])?["is_error"] as? Bool == false, "\(out)")
        #expect(out["approved_elicitations"] as? Int == 1)
        let declined = out["declined"] as? [String: Any]
        #expect(declined?["is_error"] as? Bool == true && (declined?["text"] as? String ?? "").contains("was denied by client:"), "\(out)")
        #expect((out["session"] as? [String: Any])?["is_error"] as? Bool == false)
        #expect((out["after_grant"] as? [String: Any])?["is_error"] as? Bool == false, "\(out)")
        #expect(out["after_grant_elicitations"] as? Int == 3, "the session grant should have spared a fourth question")
        let message = out["first_message"] as? String ?? ""
        #expect(message.contains("'memory_write'") && message.contains("registry.yaml:") && message.contains("note approved"), "\(message)")
        let scope = ((out["first_schema"] as? [String: Any])?["properties"] as? [String: Any])?["scope"] as? [String: Any]
        // A stateless client has no session that ends: `session` is never offered to it.
        #expect(scope?["enum"] as? [String] == (expected == "2026-07-28" ? ["call", "agent"] : ["call", "session", "agent"]))
    }

    @Test func aPythonSDKClientWithElicitationApprovesOneCallAndDeclinesAnotherOverStdio() async throws {
        try await withTemporaryDirectory { dir in
            try Self.stdioManifest.write(toFile: dir + "/registry.yaml", atomically: true, encoding: .utf8)
            let result = try await run(try python(), [packageRoot + "/Tests/Interop/approval_client.py", "stdio", agenthubBinary(), dir, "researcher"], in: dir)
            expectElicitedAnswers(try report(result))
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            let statuses = try registry.approvals(status: nil).map(\.status.rawValue).sorted()
            #expect(statuses == ["denied", "granted", "granted"])
            #expect(try registry.approvals(status: nil).allSatisfy { $0.decidedVia == "elicitation" })
        }
    }

    /// `legacy`: a session, the question on the POST's event stream. `auto` (the SDK's default):
    /// the stateless 2026-07-28 revision, the question in an "input required" result and the
    /// answer in the client's retry.
    @Test(arguments: [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
    func aPythonSDKClientWithElicitationApprovesOverStreamableHTTP(mode: String, protocol expected: String) async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: Self.clientGrantsManifest)
            let result = try await run(try python(), [packageRoot + "/Tests/Interop/approval_client.py", "http",
                                                     "http://127.0.0.1:\(api.port)/mcp", api.keys["writer"]!, mode], in: dir)
            let out = try report(result)
            expectElicitedAnswers(out, protocol: expected)
            // The requests and answers are on the agent's event stream.
            let types = await api.events(as: "writer").compactMap { $0["type"] as? String }
            #expect(types.filter { $0 == "approval.requested" }.count == 3 && types.filter { $0 == "approval.resolved" }.count == 3)
            #expect(types.contains("approval.granted") && types.contains("approval.denied"))
        }
    }

    @Test func aReplayedRequestStateGetsNoSecondRunFromOneApproval() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: Self.askingManifest)
            let headers = ["Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"]
            let meta = #""_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}, "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}}"#
            func call(_ extra: String) async -> [String: Any] {
                let body = #"{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "memory_write", "arguments": {"type": "core", "text": "once"}, \#(extra)\#(meta)}}"#
                return await api.call("POST", "/mcp", as: "writer", body: body, headers: headers).json["result"] as? [String: Any] ?? [:]
            }
            let asked = await call("")
            #expect(asked["resultType"] as? String == "input_required", "\(asked)")
            let state = try #require(asked["requestState"] as? String)
            let question = ((asked["inputRequests"] as? [String: Any])?["approval"] as? [String: Any])
            #expect(question?["method"] as? String == "elicitation/create")
            let accept = #""requestState": "\#(state)", "inputResponses": {"approval": {"action": "accept", "content": {"scope": "call"}}}, "#
            let ran = await call(accept)
            #expect(ran["resultType"] as? String == "complete" && ran["isError"] as? Bool == false, "\(ran)")
            // The same state and answer again: a new question, not a second write.
            let replayed = await call(accept)
            #expect(replayed["resultType"] as? String == "input_required" && replayed["requestState"] as? String != state, "\(replayed)")
            // Another agent's retry cannot answer this agent's request.
            let other = #"{"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "memory_write", "arguments": {"type": "core", "text": "once"}, "requestState": "\#(replayed["requestState"] as? String ?? "")", "inputResponses": {"approval": {"action": "accept"}}, \#(meta)}}"#
            _ = await api.call("POST", "/mcp", as: "boss", body: other, headers: headers)
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            #expect(try registry.approval(replayed["requestState"] as? String ?? "")?.status == .pending)
            let writes = try registry.traceEvents(TraceQuery(types: ["tool.result"])).filter { $0.tool == "memory_write" }
            #expect(writes.count == 1)
        }
    }

    @Test func aClientWithoutElicitationWaitsWhileAgenthubApprovalsInAnotherProcessLetsTheCallThrough() async throws {
        try await withTemporaryDirectory { dir in
            let (mcp, request) = try await waitingStdioCall(dir, agent: "scripted", text: "ship it on Monday")
            let shown = try await run(agenthubBinary(), ["approvals", "show", request], in: dir)
            #expect(shown.stdout.contains("tool:      memory_write") && shown.stdout.contains("ship it on Monday") && shown.stdout.contains("agent scripted"))
            let approved = try await run(agenthubBinary(), ["approvals", "approve", String(request.prefix(10)), "--reason", "reviewed"], in: dir)
            #expect(approved.status == 0, "\(approved.stderr)")
            let answer = await mcp.nextJSON()
            let result = answer["result"] as? [String: Any]
            #expect(result?["isError"] as? Bool == false, "\(answer)")
            // A second answer is refused, and says who answered first.
            let late = try await run(agenthubBinary(), ["approvals", "deny", request], in: dir)
            #expect(late.status == 1 && late.stderr.contains("is already granted (by cli:"))
            mcp.closeInput()
            _ = await mcp.waitExit()
        }
    }

    @Test func anAdminKeyApprovesOverHTTPAndOtherKeysMayOnlyLook() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: Self.askingManifest)
            let waiting = Task { await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"over http"}}"#) }
            var pending: [[String: Any]] = []
            for _ in 0..<300 where pending.isEmpty {
                pending = await api.call("GET", "/v1/approvals", as: "boss").json["approvals"] as? [[String: Any]] ?? []
                if pending.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            }
            let id = try #require(pending.first?["id"] as? String)
            #expect(pending.first?["agent"] as? String == "writer" && pending.first?["session"] as? String == "http:writer")
            // The writer sees its own request; the reader sees none; neither may answer.
            #expect((await api.call("GET", "/v1/approvals", as: "writer").json["approvals"] as? [Any])?.count == 1)
            #expect((await api.call("GET", "/v1/approvals", as: "reader").json["approvals"] as? [Any])?.count == 0)
            #expect(await api.call("GET", "/v1/approvals/\(id)", as: "reader").status == 404)
            #expect(await api.call("POST", "/v1/approvals/\(id)/approve", as: "writer", body: "{}").status == 403)
            #expect(await api.call("POST", "/v1/approvals/\(id)/approve", as: "boss", body: #"{"scope":"forever"}"#).status == 400)
            let approved = await api.call("POST", "/v1/approvals/\(id)/approve", as: "boss", body: #"{"scope":"agent","duration":"2h","reason":"ok"}"#)
            #expect(approved.status == 200, "\(approved.body)")
            let grant = approved.json["grant"] as? [String: Any]
            #expect(grant?["scope"] as? String == "agent" && grant?["granted_by"] as? String == "http:boss")
            let answer = await waiting.value
            #expect(answer.status == 200 && answer.json["isError"] as? Bool == false, "\(answer.body)")
            #expect(await api.call("POST", "/v1/approvals/\(id)/deny", as: "boss", body: "{}").status == 409)
            // The agent grant lets the next call run at once; revoked, the next call asks again.
            let next = await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"again"}}"#)
            #expect(next.status == 200)
            let grantId = try #require(grant?["id"] as? String)
            #expect(await api.call("DELETE", "/v1/approvals/grants/\(grantId)", as: "writer").status == 403)
            #expect(await api.call("DELETE", "/v1/approvals/grants/\(grantId)", as: "boss").status == 200)
            let asked = Task { await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"third"}}"#) }
            var second: String?
            for _ in 0..<300 where second == nil {
                second = (await api.call("GET", "/v1/approvals", as: "boss").json["approvals"] as? [[String: Any]])?.first?["id"] as? String
                if second == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let denied = await api.call("POST", "/v1/approvals/\(try #require(second))/deny", as: "boss", body: #"{"reason":"not now"}"#)
            #expect(denied.status == 200)
            let refused = await asked.value
            #expect(refused.status == 403 && refused.json["error"] as? [String: Any] != nil && refused.body.contains("approval_denied") && refused.body.contains("not now"))
            let types = await api.events(as: "boss", query: "&type=approval.requested,approval.resolved,approval.granted,approval.denied")
                .compactMap { $0["type"] as? String }
            // The desk records `resolved` when the answer is stored; the waiting call records `granted` or
            // `denied` when it hears of it: two tasks, so each such pair may come in either order.
            #expect(types.count == 7 && types.first == "approval.requested" && Set(types[1..<3]) == ["approval.resolved", "approval.granted"]
                    && Array(types[3..<5]) == ["approval.granted", "approval.requested"]
                    && Set(types.suffix(2)) == ["approval.resolved", "approval.denied"], "\(types)")
        }
    }

    @Test func twoOperatorsAnsweringAtOnceFromTwoProcessesRecordExactlyOneDecision() async throws {
        try await withTemporaryDirectory { dir in
            let (mcp, request) = try await waitingStdioCall(dir, agent: "racer", text: "race")
            async let approve = run(agenthubBinary(), ["approvals", "approve", request], in: dir)
            async let deny = run(agenthubBinary(), ["approvals", "deny", request, "--reason", "no"], in: dir)
            let (a, d) = try await (approve, deny)
            #expect([a.status, d.status].sorted() == [0, 1], "approve: \(a.stderr) deny: \(d.stderr)")
            let answer = await mcp.nextJSON()
            let isError = (answer["result"] as? [String: Any])?["isError"] as? Bool
            #expect(isError == (a.status != 0))
            mcp.closeInput()
            _ = await mcp.waitExit()
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            let resolved = try registry.traceEvents(TraceQuery(types: ["approval.resolved"]))
            #expect(resolved.count == 1)
            let writes = try registry.traceEvents(TraceQuery(types: ["tool.result"])).filter { $0.tool == "memory_write" }
            #expect(writes.count == (a.status == 0 ? 1 : 0))
        }
    }

    @Test func aHostRestartKeepsPendingRequestsAndLastingGrants() async throws {
        try await withTemporaryDirectory { dir in
            var api = try await APIHost.start(dir, manifest: Self.askingManifest)
            let body = #"{"arguments":{"type":"core","text":"across a restart"}}"#
            let waiting = Task { [api] in await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: body) }
            var pending: [[String: Any]] = []
            for _ in 0..<300 where pending.isEmpty {
                pending = await api.call("GET", "/v1/approvals", as: "boss").json["approvals"] as? [[String: Any]] ?? []
                if pending.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            }
            let id = try #require(pending.first?["id"] as? String)
            api.host.signal(SIGTERM)
            #expect(await api.host.waitExit())
            let cut = await waiting.value
            #expect(cut.status == 0 || cut.body.contains("stays pending"), "\(cut.body)")
            // Still pending after the host is gone.
            let listed = try await run(agenthubBinary(), ["approvals", "list", "--json"], in: dir)
            #expect(listed.stdout.contains(id), "\(listed.stdout) \(listed.stderr)")
            // The restarted host: the agent's retry waits on the same request, and an answer lets it run.
            let (host, port) = try await startServe(dir)
            api = APIHost(dir: dir, host: host, port: port, keys: api.keys)
            let retry = Task { [api] in await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: body) }
            var adopted = false
            for _ in 0..<300 where !adopted {
                let events = await api.events(as: "boss", query: "&type=approval.requested")
                adopted = events.contains { ($0["detail"] as? [String: Any])?["adopted"] as? Bool == true }
                if !adopted { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(adopted)
            let approved = try await run(agenthubBinary(), ["approvals", "approve", id, "--for", "1h"], in: dir)
            #expect(approved.status == 0, "\(approved.stderr)")
            let ran = await retry.value
            #expect(ran.status == 200 && ran.json["isError"] as? Bool == false, "\(ran.body)")
            #expect(try await run(agenthubBinary(), ["approvals", "list", "--all", "--json"], in: dir).stdout.components(separatedBy: "\"id\":\"apr_").count == 2)
            // The agent grant outlives another restart.
            api.host.signal(SIGTERM)
            #expect(await api.host.waitExit())
            let (again, againPort) = try await startServe(dir)
            api = APIHost(dir: dir, host: again, port: againPort, keys: api.keys)
            let granted = await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"later"}}"#)
            #expect(granted.status == 200, "\(granted.body)")
            let grants = try await run(agenthubBinary(), ["approvals", "grants"], in: dir)
            #expect(grants.stdout.contains("memory_write") && grants.stdout.contains("writer") && grants.stdout.contains("cli:"))
        }
    }
}
