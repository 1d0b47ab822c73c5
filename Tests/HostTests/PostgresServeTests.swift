import Base
import Foundation
import Testing
import TestSupport
@testable import Host

/// `agenthub serve` on PostgreSQL: two hosts on one database share keys, memories and traces, list
/// each other, and answer `/ready`; the password comes from the environment and reaches no log.
@Suite(.serialized) struct PostgresServeTests {
    @Test func twoServeProcessesOnOnePostgreSQLShareKeysMemoryAndTraces() async throws {
        let url = try await PrivatePostgres.sharedDatabase()
        // The manifest names the password by variable; the test hands it over in the environment.
        let password = try #require(url.split(separator: ":")[2].split(separator: "@").first.map(String.init))
        let database = url.replacingOccurrences(of: ":\(password)@", with: ":${AGENTHUB_TEST_PG_PASSWORD}@")
        try await withTemporaryDirectory { dir in
            try write("---\nname: public-guide\ndescription: A guide anyone may read.\n---\nRead the guide.\n", to: "skills/public-guide/SKILL.md", in: dir)
            try write("""
                version: 1
                host: { database: "\(database)", cache: cache }
                sources:
                  - { name: local, path: ./skills }
                policy:
                  default: deny
                  rules:
                    - allow: [skills_search, memory_get, memory_search, memory_write]
                plugins:
                  memory: {}
                  skills: {}
                agents:
                  writer: { role: researcher }
                  boss: { role: editor, admin: true }
                roles:
                  researcher: { skills: ["*"] }
                  editor: { skills: ["*"] }
                """, to: "registry.yaml", in: dir)
            var env = ProcessInfo.processInfo.environment
            env["AGENTHUB_TEST_PG_PASSWORD"] = password
            env["AGENTHUB_KEY_PEPPER"] = "a-pepper-every-host-on-this-database-shares"
            env["AGENTHUB_BINARY"] = agenthubBinary()
            var keys: [String: String] = [:]
            for agent in ["writer", "boss"] {
                let made = try await run(agenthubBinary(), ["keys", "create", "--agent", agent], in: dir, environment: env)
                #expect(made.status == 0, "\(made.stderr)")
                keys[agent] = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var hosts: [(process: RunningProcess, port: Int)] = []
            for _ in 0..<2 {
                let process = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"], in: dir, environment: env)
                guard let text = await process.waitForStderr("listening on http://127.0.0.1:"),
                      let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                      let port = Int(text[range].split(separator: ":").last ?? "") else {
                    Issue.record("serve did not start: \(process.stderr)")
                    return
                }
                hosts.append((process, port))
            }
            defer { for host in hosts { host.process.signal(SIGTERM) } }
            func call(_ host: Int, _ method: String, _ path: String, as agent: String, body: String? = nil) async -> HTTPAnswer {
                await http(hosts[host].port, method, path, headers: ["Authorization": "Bearer \(keys[agent] ?? "")"], body: body)
                    ?? HTTPAnswer(status: 0, headers: [:], body: "no answer")
            }
            for host in 0..<2 {
                var ready = await http(hosts[host].port, "GET", "/ready")
                for _ in 0..<300 where ready?.status != 200 {
                    try await Task.sleep(for: .milliseconds(100))
                    ready = await http(hosts[host].port, "GET", "/ready")
                }
                #expect(ready?.status == 200, "host \(host): \(ready?.body ?? "no answer")")
            }

            // A memory written through host 0 is found through host 1; the skill synced once is served by both.
            let wrote = await call(0, "POST", "/v1/tools/memory_write/call", as: "writer",
                                   body: #"{"arguments":{"type":"core","text":"the shared notebook lives in PostgreSQL"}}"#)
            #expect(wrote.status == 200, "\(wrote.body)")
            let found = await call(1, "POST", "/v1/tools/memory_search/call", as: "writer", body: #"{"arguments":{"query":"shared notebook"}}"#)
            #expect(found.status == 200 && found.body.contains("notebook"), "\(found.body)")
            let skills = await call(1, "GET", "/v1/skills?q=guide", as: "writer")
            #expect(skills.status == 200 && skills.body.contains("public-guide"), "\(skills.body)")

            // Each host sees both; the trace of host 0's call is read through host 1.
            let listed = await call(1, "GET", "/v1/hosts", as: "boss")
            #expect(listed.status == 200 && listed.body.components(separatedBy: "\"pid\"").count - 1 == 2, "\(listed.body)")
            #expect(await call(1, "GET", "/v1/hosts", as: "writer").status == 403)
            var traced = false
            for _ in 0..<100 where !traced {
                traced = await call(1, "GET", "/v1/events?limit=100", as: "boss").body.contains("memory_write")
                if !traced { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(traced, "host 0's trace was not read through host 1")

            // An MCP session (2025-11-25) opened on host 0 goes on on host 1, as a load balancer would
            // send it; ended on host 1, neither host serves it any more.
            var mcp = ["Accept": "application/json, text/event-stream", "Authorization": "Bearer \(keys["writer"] ?? "")"]
            let opened = await http(hosts[0].port, "POST", "/mcp", headers: mcp, body: #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}"#)
            let session = try #require(opened?.headers["mcp-session-id"], "\(opened?.body ?? "no answer")")
            mcp["Mcp-Session-Id"] = session
            mcp["MCP-Protocol-Version"] = "2025-11-25"
            let search = #"{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "memory_search", "arguments": {"query": "shared notebook"}}}"#
            let elsewhere = await http(hosts[1].port, "POST", "/mcp", headers: mcp, body: search)
            #expect(elsewhere?.status == 200 && elsewhere?.body.contains("notebook") == true, "\(elsewhere?.body ?? "no answer")")
            #expect(await http(hosts[0].port, "POST", "/mcp", headers: mcp, body: search)?.status == 200)
            var theirs = mcp
            theirs["Authorization"] = "Bearer \(keys["boss"] ?? "")"
            #expect(await http(hosts[1].port, "POST", "/mcp", headers: theirs, body: search)?.status == 404, "another agent's key used the session")
            // A skill published through host 0 reaches the session's stream on host 1 as list_changed.
            var streamHeaders = mcp
            streamHeaders["Accept"] = nil
            let port1 = hosts[1].port, headers1 = streamHeaders
            let stream = try #require(await onThread { () -> SSEStream? in
                guard let stream = SSEStream(port1, "/mcp", headers: headers1), stream.head(), stream.status == 200 else { return nil }
                return stream
            }, "no GET stream on host 1")
            try write("---\nname: second-guide\ndescription: Published while a session listens elsewhere.\n---\nRead it too.\n",
                      to: "skills/second-guide/SKILL.md", in: dir)
            #expect(await call(0, "POST", "/v1/sources/local/sync?wait=true", as: "boss").status == 200)
            let told = await onThread { () -> [String] in
                var methods: [String] = []
                while !methods.contains("notifications/resources/list_changed"), let event = stream.next(timeout: 30) {
                    methods.append(jsonObject(event.data)["method"] as? String ?? "?")
                }
                return methods
            }
            #expect(told.contains("notifications/resources/list_changed"), "host 1's session heard \(told)")
            #expect(await http(hosts[1].port, "DELETE", "/mcp", headers: mcp)?.status == 204)
            var ended = await http(hosts[0].port, "POST", "/mcp", headers: mcp, body: search)
            for _ in 0..<50 where ended?.status != 404 {
                try await Task.sleep(for: .milliseconds(100))
                ended = await http(hosts[0].port, "POST", "/mcp", headers: mcp, body: search)
            }
            #expect(ended?.status == 404, "a session ended on host 1 still served on host 0: \(ended?.body ?? "no answer")")

            // A console sign-in on host 0 is good on host 1; signed out on host 1, host 0 asks to sign in again.
            var browser = ConsoleClient(port: hosts[0].port)
            let signedIn = await browser.signIn(keys["boss"] ?? "")
            #expect(signedIn.status == 303 && browser.cookies["agenthub_session"] != nil, "\(signedIn.status) \(signedIn.body)")
            #expect(await browser.get("/").status == 200)
            var sameBrowser = ConsoleClient(port: hosts[1].port)
            sameBrowser.cookies = browser.cookies
            let there = await sameBrowser.get("/")
            #expect(there.status == 200, "host 1 did not know host 0's sign-in: \(there.status) \(there.headers["location"] ?? "")")
            #expect(await sameBrowser.post("/logout").status == 303)
            sameBrowser.cookies = browser.cookies
            #expect(await sameBrowser.get("/").status == 303, "signed out, still let in on host 1")
            var back = await browser.get("/")
            for _ in 0..<50 where back.status != 303 {
                try await Task.sleep(for: .milliseconds(100))
                back = await browser.get("/")
            }
            #expect(back.status == 303 && back.headers["location"]?.hasPrefix("/login") == true, "signed out on host 1, still in on host 0")

            for host in hosts {
                host.process.signal(SIGTERM)
                #expect(await host.process.waitExit(timeout: 30))
                #expect(!host.process.stderr.contains(password), "a host logged the database password")
            }
        }
    }
}

/// The database going away under a running host: `/ready` turns 503 and says why, calls fail with a
/// clear error instead of hanging, and both recover once the server is back, without a restart.
@Suite(.serialized) struct PostgresServeFaultTests {
    @Test func aHostOnAStoppedDatabaseIsUnreadyAndRecoversOnItsOwn() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { dir in
            try write("""
                version: 1
                host: { database: "\(server.url())", cache: cache }
                policy:
                  default: deny
                  rules:
                    - allow: [memory_write, memory_search]
                plugins:
                  memory: {}
                agents:
                  writer: { role: researcher }
                roles:
                  researcher: {}
                """, to: "registry.yaml", in: dir)
            var env = ProcessInfo.processInfo.environment
            env["AGENTHUB_KEY_PEPPER"] = "a-pepper-every-host-on-this-database-shares"
            env["AGENTHUB_BINARY"] = agenthubBinary()
            let made = try await run(agenthubBinary(), ["keys", "create", "--agent", "writer"], in: dir, environment: env)
            #expect(made.status == 0, "\(made.stderr)")
            let key = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let process = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"], in: dir, environment: env)
            defer { process.signal(SIGTERM) }
            guard let text = await process.waitForStderr("listening on http://127.0.0.1:"),
                  let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let port = Int(text[range].split(separator: ":").last ?? "") else {
                Issue.record("serve did not start: \(process.stderr)")
                return
            }
            func ready() async -> HTTPAnswer? { await http(port, "GET", "/ready") }
            func remember(_ text: String) async -> HTTPAnswer? {
                await http(port, "POST", "/v1/tools/memory_write/call", headers: ["Authorization": "Bearer \(key)"],
                           body: #"{"arguments":{"type":"core","text":"\#(text)"}}"#)
            }
            var answer = await ready()
            for _ in 0..<300 where answer?.status != 200 { try await Task.sleep(for: .milliseconds(100)); answer = await ready() }
            #expect(answer?.status == 200, "\(answer?.body ?? "no answer")")
            #expect(await remember("before the outage")?.status == 200)

            await server.halted()
            answer = await ready()
            for _ in 0..<300 where answer?.status != 503 { try await Task.sleep(for: .milliseconds(100)); answer = await ready() }
            #expect(answer?.status == 503 && answer?.body.contains("the registry cannot be read") == true, "\(answer?.body ?? "no answer")")
            let started = ContinuousClock.now
            let during = await remember("during the outage")
            // The key cannot be checked: 503 with the reason, not 401 (the key is not at fault).
            #expect(during?.status == 503 && during?.body.contains("the registry cannot be read") == true, "a call with the database down: \(during?.body ?? "no answer")")
            #expect(ContinuousClock.now - started < .seconds(25), "the call waited for the limit, not for the change feed")

            try await server.started()
            answer = await ready()
            for _ in 0..<300 where answer?.status != 200 { try await Task.sleep(for: .milliseconds(100)); answer = await ready() }
            #expect(answer?.status == 200, "not ready again: \(answer?.body ?? "no answer")")
            #expect(await remember("after the outage")?.status == 200)
            // What waited in the writer's queue through the outage is in the log now, each event once;
            // /metrics shows the backlog drained (whether a write was refused depends on what was queued
            // when the server stopped, so that count is not asked for).
            func logged() async -> [[String: Any]] {
                await http(port, "GET", "/v1/events?limit=100", headers: ["Authorization": "Bearer \(key)"])?.json["events"] as? [[String: Any]] ?? []
            }
            var events = await logged()
            for _ in 0..<100 where events.filter({ $0["type"] as? String == "tool.result" }).count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                events = await logged()
            }
            let results = events.filter { $0["type"] as? String == "tool.result" && $0["tool"] as? String == "memory_write" }
            #expect(results.count == 2, "the calls before and after the outage: \(results)")
            let kinds = events.map { "\($0["span_id"] ?? "")/\($0["type"] ?? "")" }
            #expect(Set(kinds).count == kinds.count, "an event was stored twice: \(kinds)")
            let metrics = await http(port, "GET", "/metrics")?.body ?? ""
            #expect(metrics.contains("agenthub_trace_unwritten_events 0"), "\(metrics.prefix(3000))")
            #expect(process.process.isRunning, "the host stopped during the outage: \(process.stderr)")
            #expect(!process.stderr.contains(server.password))
        }
    }
}
