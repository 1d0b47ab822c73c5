import Base
import Foundation
import Testing
import TestSupport
@testable import Host

/// What an attacker found on the HTTP front, replayed: slow request bodies and connection floods
/// without a key, streams that outlive their key, reported events that forge the router's spans,
/// unbounded event ingest, and `ah_` keys in stored events.
@Suite(.serialized) struct HTTPHardeningTests {
    static let limits = """
        http:
          request_timeout: 2s
          max_connections_per_address: 6
          ingest_rate: 0.1
          ingest_burst: 5
        """

    /// Sends `text` on a new connection and reads until the server closes it; nil when it stayed
    /// open `wait` seconds.
    static func closedByServer(_ port: Int, sending text: String, wait: Double) async -> Bool {
        await onThread {
            guard let fd = connectLocal(port, timeout: wait) else { return false }
            defer { close(fd) }
            _ = text.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(wait)
            while Date() < deadline {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n == 0 { return true }
                if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
            }
            return false
        }
    }

    @Test func aRequestWhoseBodyTricklesIsClosedAtTheRequestDeadlineAndTheHostStaysUp() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: Self.limits))
            let slow = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\nkey=ah_"
            #expect(await Self.closedByServer(api.port, sending: slow, wait: 30), "a body that never completes holds the connection")
            let slowHeaders = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "
            #expect(await Self.closedByServer(api.port, sending: slowHeaders, wait: 30), "headers that never complete hold the connection")
            #expect(await http(api.port, "GET", "/health")?.status == 200)
        }
    }

    @Test func oneAddressHoldsAtMostItsShareOfConnections() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: Self.limits))
            let port = api.port
            let held: [Int32] = await onThread { (0..<6).compactMap { _ in connectLocal(port, timeout: 5) } }
            #expect(held.count == 6)
            try await Task.sleep(for: .milliseconds(300))
            #expect(await Self.closedByServer(port, sending: "", wait: 10), "a seventh connection from the same address stays open")
            for fd in held { close(fd) }
            var status = 0
            for _ in 0..<50 where status != 200 {
                status = await http(port, "GET", "/health", timeout: 5)?.status ?? 0
                if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == 200, "the address gets its connections back once it closes them")
        }
    }

    @Test func aRevokedKeyEndsItsOpenStreamWithAFinalEvent() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let port = api.port, key = api.keys["writer"]!
            let listed = try await run(agenthubBinary(), ["keys", "list", "--agent", "writer", "--json"], in: dir)
            let id = try #require(((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["id"]) as? String)
            let stream = try #require(await onThread { () -> SSEStream? in
                guard let s = SSEStream(port, "/v1/events/stream", headers: ["Authorization": "Bearer \(key)"]), s.head() else { return nil }
                return s
            })
            #expect(stream.status == 200)
            let revoked = try await run(agenthubBinary(), ["keys", "revoke", id], in: dir)
            #expect(revoked.status == 0, "\(revoked.stderr)")
            // The writer's own events after the revocation (reported with the boss's key as admin would not be the writer's: use the CLI's trace).
            _ = await api.call("POST", "/v1/events", as: "boss", body: #"{"type": "status", "session_id": "after", "state": "RUNNING"}"#)
            let seen: [SSEStream.Event] = await onThread {
                var events: [SSEStream.Event] = []
                while let event = stream.next(timeout: 10) {
                    events.append(event)
                    if event.event == "end" { break }
                }
                return events
            }
            #expect(seen.last?.event == "end" && (seen.last?.data ?? "").contains("revoked"), "\(seen.map { "\($0.event ?? "-") \($0.data)" }) end=\(stream.atEnd)")
            #expect(await onThread { stream.next(timeout: 3) } == nil, "nothing after the end")
        }
    }

    @Test func reportedEventsCannotJoinTheRoutersSpansOrAnotherAgentsAndIngestHasAQuota() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: Self.limits))
            let called = await api.call("POST", "/v1/tools/memory_search/call", as: "writer", body: #"{"arguments": {"query": "x"}}"#)
            let span = try #require(called.json["span_id"] as? String, "\(called.body)")
            for agent in ["writer", "reader"] {
                let forged = await api.call("POST", "/v1/events", as: agent,
                                            body: #"{"type": "tool.end", "session_id": "s", "span_id": "\#(span)", "state": "DONE"}"#)
                #expect(forged.status == 409 && forged.body.contains("span_id"), "\(agent): \(forged.status) \(forged.body)")
            }
            let router = await api.events(as: "boss").filter { ($0["span_id"] as? String) == span }
            #expect(router.allSatisfy { ($0["type"] as? String ?? "").hasPrefix("tool.") && $0["agent"] as? String == "writer" })
            #expect(!router.contains { $0["type"] as? String == "tool.end" })
            // An agent's own span is its own to continue.
            let own = #"{"type": "tool.start", "session_id": "s", "span_id": "mine-1"}"#
            #expect(await api.call("POST", "/v1/events", as: "reader", body: own).status == 201)
            #expect(await api.call("POST", "/v1/events", as: "writer", body: own.replacingOccurrences(of: "tool.start", with: "tool.end")).status == 409)
            // The quota: a burst of 5 (two spent above, the refused one too), then 429 with Retry-After.
            let batch = "[" + Array(repeating: #"{"type": "status", "session_id": "q", "state": "RUNNING"}"#, count: 3).joined(separator: ",") + "]"
            #expect(await api.call("POST", "/v1/events", as: "reader", body: batch).status == 201)
            let over = await api.call("POST", "/v1/events", as: "reader", body: #"{"type": "status", "session_id": "q"}"#)
            #expect(over.status == 429 && over.headers["retry-after"] != nil, "\(over.status) \(over.body)")
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "status", "session_id": "q"}"#).status == 201, "each agent has its own quota")
        }
    }

    @Test func apiKeysAreRedactedInReportedEvents() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let key = api.keys["reader"]!
            let body = #"{"type": "error", "session_id": "leak", "payload": {"message": "the key \#(key) failed"}}"#
            #expect(await api.call("POST", "/v1/events", as: "reader", body: body).status == 201)
            let stored = await api.events(as: "boss", query: "&session=leak")
            #expect(!stored.isEmpty)
            let text = String(data: try JSONSerialization.data(withJSONObject: stored), encoding: .utf8) ?? ""
            #expect(!text.contains(key) && !text.contains(String(key.dropFirst(3).prefix(20))), "\(text)")
        }
    }

    @Test func mcpTakesOnlyJSONSkillFilesNeverRenderAndMetricsHideToolNamesByDefault() async throws {
        try await withTemporaryDirectory { dir in
            try write("<script>alert(1)</script>", to: "skills/public-guide/page.html", in: dir)
            try write("<svg onload=alert(1)/>", to: "skills/public-guide/pic.svg", in: dir)
            let api = try await APIHost.start(dir)
            let initialize = #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}"#
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let answer = await api.call("POST", "/mcp", as: "writer", body: initialize, headers: ["Content-Type": type, "Accept": "application/json, text/event-stream"])
                #expect(answer.status == 415, "\(type): \(answer.status) \(answer.body)")
            }
            let json = await api.call("POST", "/mcp", as: "writer", body: initialize, headers: ["Content-Type": "application/json; charset=utf-8", "Accept": "application/json, text/event-stream"])
            #expect(json.status == 200, "\(json.body)")
            for file in ["page.html", "pic.svg"] {
                let served = await api.call("GET", "/v1/skills/public-guide/files/\(file)", as: "writer")
                #expect(served.status == 200, "\(file): \(served.body)")
                #expect(served.headers["content-type"]?.hasPrefix("text/plain") == true, "\(file): \(served.headers)")
                #expect(served.headers["x-content-type-options"] == "nosniff" && served.headers["content-security-policy"]?.contains("sandbox") == true)
                #expect(served.headers["content-disposition"]?.hasPrefix("attachment") == true)
            }
            _ = await api.call("POST", "/v1/tools/memory_search/call", as: "writer", body: #"{"arguments": {"query": "x"}}"#)
            let metrics = await api.call("GET", "/metrics", as: nil)
            #expect(metrics.body.contains("agenthub_tool_calls_total") && !metrics.body.contains("memory_search"), "\(metrics.body.prefix(2000))")
        }
    }

    @Test func statelessCallsAreGroupedByTheTraceTheyCarryAndGetNoSessionScope() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: ApprovalInteropTests.askingManifest)
            let headers = ["Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"]
            let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
            func call(_ tool: String, _ arguments: String, traceparent: String?) async -> [String: Any] {
                let parent = traceparent.map { #", "traceparent": "\#($0)""# } ?? ""
                let meta = #""_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}, "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}\#(parent)}"#
                let body = #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "\#(tool)", "arguments": \#(arguments), \#(meta)}}"#
                return await api.call("POST", "/mcp", as: "writer", body: body, headers: headers).json["result"] as? [String: Any] ?? [:]
            }
            _ = await call("memory_search", #"{"query": "one"}"#, traceparent: "00-\(trace)-00f067aa0ba902b7-01")
            _ = await call("memory_search", #"{"query": "two"}"#, traceparent: "00-\(trace)-b7ad6b7169203331-01")
            _ = await call("memory_search", #"{"query": "three"}"#, traceparent: nil)
            let results = await api.events(as: "writer", query: "&type=tool.result")
            let sessions = results.compactMap { $0["session"] as? String }
            #expect(sessions.filter { $0 == "trace-\(trace)" }.count == 2, "\(sessions)")
            #expect(sessions.count == 3 && Set(sessions).count == 2, "\(sessions)")
            // An approval asked of a stateless client never offers `session`, and its first leg is not a failure.
            let asked = await call("memory_write", #"{"type": "core", "text": "x"}"#, traceparent: "00-\(trace)-00f067aa0ba902b7-01")
            #expect(asked["resultType"] as? String == "input_required", "\(asked)")
            let schema = (((asked["inputRequests"] as? [String: Any])?["approval"] as? [String: Any])?["params"] as? [String: Any])?["requestedSchema"] as? [String: Any]
            let scopes = ((schema?["properties"] as? [String: Any])?["scope"] as? [String: Any])?["enum"] as? [String]
            #expect(scopes == ["call"], "\(scopes ?? [])")
            let types = await api.events(as: "writer").compactMap { $0["type"] as? String }
            #expect(types.contains("tool.awaiting_approval") && !types.contains("tool.blocked"), "\(types)")
        }
    }
}
