import Base
import Foundation
import TestSupport
import Testing
@testable import Host

/// The HTTP API of `agenthub serve` (the real binary): keys, tools, skills, sources, events.
@Suite(.serialized) struct HTTPAPITests {
    /// Every documented route, with its path parameters filled in.
    static func documentedRoutes(_ api: APIHost) async throws -> [(method: String, path: String)] {
        let document = await api.call("GET", "/v1/openapi.json", as: nil).json
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var routes: [(String, String)] = []
        for (path, methods) in paths {
            let filled = path.replacingOccurrences(of: "{name}", with: "public-guide").replacingOccurrences(of: "{path}", with: "SKILL.md")
                .replacingOccurrences(of: "{id}", with: "run_x")
            for method in methods.keys { routes.append((method.uppercased(), filled)) }
        }
        return routes
    }

    @Test func everyRouteRefusesAMissingABadARevokedAndAnExpiredKey() async throws {
        try await withTemporaryDirectory { dir in
            var api = try await APIHost.start(dir)
            let expiring = try await run(agenthubBinary(), ["keys", "create", "--agent", "reader", "--expires", "1s"], in: dir)
            api.keys["expiring"] = expiring.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let revoked = try await run(agenthubBinary(), ["keys", "create", "--agent", "writer", "--json"], in: dir)
            let made = jsonObject(revoked.stdout)
            api.keys["revoked"] = try #require(made["key"] as? String)
            #expect(await api.call("GET", "/v1/tools", as: "revoked").status == 200)
            let gone = try await run(agenthubBinary(), ["keys", "revoke", try #require(made["id"] as? String)], in: dir)
            #expect(gone.status == 0, "\(gone.stderr)")
            try await Task.sleep(for: .milliseconds(1200))

            let open = ["/health", "/ready", "/metrics", "/v1/openapi.json"]
            let routes = try await Self.documentedRoutes(api).filter { !open.contains($0.path) }
            #expect(routes.count >= 15)
            for route in routes {
                for who in [nil, "ah_not-a-real-key", "revoked", "expiring"] as [String?] {
                    let answer = await api.call(route.method, route.path, as: who, body: route.method == "POST" ? "{}" : nil)
                    #expect(answer.status == 401, "\(route.method) \(route.path) as \(who ?? "no key"): \(answer.status) \(answer.body)")
                    #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                    #expect((answer.json["error"] as? [String: Any])?["code"] as? String == "unauthorized")
                }
            }
            let expired = await api.call("GET", "/v1/tools", as: "expiring")
            #expect(expired.body.contains("expired"))
            let refused = await api.call("GET", "/v1/tools", as: "revoked")
            #expect(refused.body.contains("revoked"))
            // No key ever reaches the log.
            api.host.signal(SIGTERM)
            _ = await api.host.waitExit()
            for key in api.keys.values { #expect(!api.host.stderr.contains(key)) }
            let list = try await run(agenthubBinary(), ["keys", "list", "--json"], in: dir)
            for key in api.keys.values { #expect(!list.stdout.contains(key)) }
            // The registry holds hashes, never keys.
            let db = try Data(contentsOf: URL(fileURLWithPath: dir + "/registry.db"))
            for key in api.keys.values { #expect(db.range(of: Data(key.utf8)) == nil) }
        }
    }

    @Test func aKeyFromKeyEnvStandsForItsAgent() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = APIHost.manifest(extraAgents: "  envbot: { role: researcher, key_env: ENVBOT_KEY }")
            let secret = "an-operator-chosen-key-for-envbot"
            var api = try await APIHost.start(dir, manifest: manifest, environment: ["ENVBOT_KEY": secret])
            api.keys["envbot"] = secret
            let tools = await api.call("GET", "/v1/tools", as: "envbot")
            #expect(tools.status == 200, "\(tools.body)")
            #expect(await api.call("POST", "/v1/events", as: "envbot", body: #"{"type": "status", "session_id": "e"}"#).status == 201)
            let events = await api.events(as: "boss", query: "&session=e")
            #expect(events.first?["agent"] as? String == "envbot")
            #expect(await api.call("GET", "/v1/tools", as: "an-operator-chosen-key-for-envboT").status == 401)
        }
    }

    @Test func aKeySeesOnlyItsOwnAgentsEventsAndMemories() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let wrote = await api.call("POST", "/v1/tools/memory_write/call", as: "reader", body: #"{"arguments": {"text": "reader's private aardvark note", "type": "core"}}"#)
            #expect(wrote.status == 200, "\(wrote.body)")
            #expect(await api.call("POST", "/v1/events", as: "reader", body: #"{"type": "status", "session_id": "r1", "state": "RUNNING"}"#).status == 201)
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "status", "session_id": "w1", "state": "IDLE"}"#).status == 201)

            let search = await api.call("POST", "/v1/tools/memory_search/call", as: "writer", body: #"{"arguments": {"query": "aardvark"}}"#)
            #expect(search.status == 200)
            #expect(!search.body.contains("mem_"), "writer found reader's memory: \(search.body)")
            let own = await api.call("POST", "/v1/tools/memory_search/call", as: "reader", body: #"{"arguments": {"query": "aardvark"}}"#)
            #expect(own.body.contains("aardvark"))

            let writerEvents = await api.events(as: "writer")
            #expect(!writerEvents.isEmpty)
            #expect(writerEvents.allSatisfy { $0["agent"] as? String == "writer" })
            #expect(await api.call("GET", "/v1/events?agent=reader", as: "writer").status == 403)
            let bossEvents = await api.events(as: "boss")
            #expect(Set(bossEvents.compactMap { $0["agent"] as? String }) == ["reader", "writer"])
            let readerOnly = await api.events(as: "boss", query: "&agent=reader")
            #expect(!readerOnly.isEmpty && readerOnly.allSatisfy { $0["agent"] as? String == "reader" })

            // The stream holds to the same rule.
            let port = api.port
            let key = api.keys["writer"]!
            let streamed: [String] = await onThread {
                guard let stream = SSEStream(port, "/v1/events/stream?after=0", headers: ["Authorization": "Bearer \(key)"]) else { return [] }
                var agents: [String] = []
                while let event = stream.next(timeout: 3) { agents.append(jsonObject(event.data)["agent"] as? String ?? "?") }
                return agents
            }
            #expect(!streamed.isEmpty && Set(streamed) == ["writer"])

            // Agents: each key sees itself; the admin sees everyone, with reported state.
            let mine = await api.call("GET", "/v1/agents", as: "writer").json["agents"] as? [[String: Any]] ?? []
            #expect(mine.map { $0["name"] as? String } == ["writer"])
            let all = await api.call("GET", "/v1/agents", as: "boss").json["agents"] as? [[String: Any]] ?? []
            #expect(Set(all.compactMap { $0["name"] as? String }) == ["reader", "writer", "boss"])
            #expect(all.first { $0["name"] as? String == "reader" }?["state"] as? String == "RUNNING")
        }
    }

    @Test func toolsCallThroughTheRouterAndADeniedToolLooksUnknown() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let tools = await api.call("GET", "/v1/tools", as: "reader").json["tools"] as? [[String: Any]] ?? []
            let names = Set(tools.compactMap { $0["name"] as? String })
            #expect(names.contains("memory_write") && names.contains("read_file"))
            #expect(!names.contains("write_file") && !names.contains("memory_delete"))

            let read = await api.call("POST", "/v1/tools/read_file/call", as: "reader", body: #"{"arguments": {"path": "public-guide/SKILL.md"}}"#)
            #expect(read.status == 200)
            #expect(read.json["isError"] as? Bool == false)
            #expect(((read.json["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("Read the guide") == true)
            let bad = await api.call("POST", "/v1/tools/read_file/call", as: "reader", body: #"{"arguments": {"path": 7}}"#)
            #expect(bad.status == 200 && bad.json["isError"] as? Bool == true, "invalid arguments are a tool error, as in MCP")

            let denied = await api.call("POST", "/v1/tools/write_file/call", as: "reader", body: #"{"arguments": {"path": "x", "content": "y"}}"#)
            let unknown = await api.call("POST", "/v1/tools/no_such_tool/call", as: "reader", body: "{}")
            #expect(denied.status == 404 && unknown.status == 404)
            #expect(denied.body.replacingOccurrences(of: "write_file", with: "T") == unknown.body.replacingOccurrences(of: "no_such_tool", with: "T"))

            #expect(await api.call("POST", "/v1/tools/read_file/call", as: "reader", body: "not json").status == 400)
            let noRoute = await api.call("GET", "/v1/no-such-route", as: "reader")
            #expect(noRoute.status == 404 && (noRoute.json["error"] as? [String: Any])?["code"] as? String == "not_found", "one error shape: \(noRoute.body)")
            let wrongMethod = await api.call("DELETE", "/v1/tools", as: "reader")
            #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "GET", "\(wrongMethod.status) \(wrongMethod.headers)")
            #expect(await api.call("PUT", "/v1/skills/public-guide/files/notes/usage.md", as: "reader").status == 405)
            #expect(await api.call("POST", "/v1/tools/read_file/call", as: "reader", body: #"{"arguments": [1]}"#).status == 400)
            #expect(await api.call("POST", "/v1/tools/read_file/call", as: "reader", body: #"{"argument": {}}"#).status == 400)

            // Requests are counted by route template (bounded labels) in /metrics.
            let metrics = await api.call("GET", "/metrics", as: nil)
            #expect(metrics.body.contains(#"hb_requests{http_route="/v1/tools/{name}/call",http_request_method="POST",http_response_status_code="404"}"#), "\(metrics.body.prefix(3000))")

            // Each call is traced under the key's agent, with the HTTP session.
            let events = await api.events(as: "reader", query: "&type=tool.result")
            #expect(events.contains { $0["tool"] as? String == "read_file" && $0["session"] as? String == "http:reader" })
        }
    }

    @Test func skillsFollowTheRoleAndAnswerIfNoneMatch() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let list = await api.call("GET", "/v1/skills", as: "reader")
            #expect(list.status == 200)
            #expect((list.json["skills"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["public-guide"])
            let bossList = await api.call("GET", "/v1/skills", as: "boss")
            #expect((bossList.json["skills"] as? [[String: Any]])?.count == 2)
            let etag = try #require(list.headers["etag"])
            #expect(await api.call("GET", "/v1/skills", as: "reader", headers: ["If-None-Match": etag]).status == 304)
            #expect(await api.call("GET", "/v1/skills", as: "boss", headers: ["If-None-Match": etag]).status == 200, "another role's list is another entity")

            let searched = await api.call("GET", "/v1/skills?q=plan", as: "reader")
            #expect((searched.json["skills"] as? [[String: Any]])?.isEmpty == true)
            let found = await api.call("GET", "/v1/skills?q=plan", as: "boss")
            #expect((found.json["skills"] as? [[String: Any]])?.first?["name"] as? String == "secret-plan")

            let hidden = await api.call("GET", "/v1/skills/secret-plan", as: "reader")
            let missing = await api.call("GET", "/v1/skills/no-such-skill", as: "reader")
            #expect(hidden.status == 404 && missing.status == 404)
            #expect(await api.call("GET", "/v1/skills/secret-plan/files/SKILL.md", as: "reader").status == 404)

            let skill = await api.call("GET", "/v1/skills/public-guide", as: "reader")
            #expect(skill.json["instructions"] as? String == "Read the guide.")
            #expect((skill.json["files"] as? [[String: Any]])?.contains { $0["path"] as? String == "notes/usage.md" } == true)
            let file = await api.call("GET", "/v1/skills/public-guide/files/notes/usage.md", as: "reader")
            #expect(file.status == 200 && file.body == "Some notes.\n")
            #expect(file.headers["content-type"]?.hasPrefix("text/markdown") == true)
            let fileTag = try #require(file.headers["etag"])
            #expect(await api.call("GET", "/v1/skills/public-guide/files/notes/usage.md", as: "reader", headers: ["If-None-Match": fileTag]).status == 304)
            #expect(await api.call("GET", "/v1/skills/public-guide/files/notes/missing.md", as: "reader").status == 404)
            #expect(await api.call("GET", "/v1/skills/public-guide/files/..%2F..%2Fregistry.yaml", as: "reader").status == 404)

            // A new revision changes the ETag.
            try write("---\nname: public-guide\ndescription: A guide anyone may read, revised.\n---\nRead it twice.\n", to: "skills/public-guide/SKILL.md", in: dir)
            let synced = await api.call("POST", "/v1/sources/local/sync?wait=true", as: "boss")
            #expect(synced.status == 200, "\(synced.body)")
            #expect(await api.call("GET", "/v1/skills", as: "reader", headers: ["If-None-Match": etag]).status == 200)

            // A sync by another process (agenthub sync) is seen at once, though answers are cached.
            let before = await api.call("GET", "/v1/skills?q=guide", as: "reader")
            #expect(before.body.contains("revised"))
            try write("---\nname: public-guide\ndescription: A guide rewritten by the CLI.\n---\nRead it thrice.\n", to: "skills/public-guide/SKILL.md", in: dir)
            let cli = try await run(agenthubBinary(), ["sync"], in: dir)
            #expect(cli.status == 0, "\(cli.stderr)")
            let after = await api.call("GET", "/v1/skills?q=guide", as: "reader")
            #expect(after.body.contains("rewritten by the CLI"), "\(after.body)")
        }
    }

    @Test func onlyAnAdminStartsASyncOrAReload() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let sources = await api.call("GET", "/v1/sources", as: "reader").json["sources"] as? [[String: Any]] ?? []
            #expect(sources.first?["name"] as? String == "local" && sources.first?["status"] as? String == "ready")
            #expect(await api.call("POST", "/v1/sources/local/sync", as: "reader").status == 403)
            #expect(await api.call("POST", "/v1/reload", as: "reader").status == 403)
            #expect(await api.call("POST", "/v1/sources/nowhere/sync", as: "boss").status == 404)

            let started = await api.call("POST", "/v1/sources/local/sync", as: "boss")
            #expect(started.status == 202, "\(started.body)")
            let url = try #require(started.json["status_url"] as? String)
            var status = ""
            for _ in 0..<300 {
                status = await api.call("GET", url, as: "reader").json["status"] as? String ?? ""
                if status == "done" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == "done")
            let reload = await api.call("POST", "/v1/reload", as: "boss")
            #expect(reload.status == 200 && reload.json["result"] as? String == "unchanged", "\(reload.body)")
            try write(APIHost.manifest() + "\nbogus: 1\n", to: "registry.yaml", in: dir)
            let rejected = await api.call("POST", "/v1/reload", as: "boss")
            #expect(rejected.status == 422)
            #expect((rejected.json["errors"] as? [String])?.first?.contains("registry.yaml:") == true)
        }
    }

    @Test func tenThousandIngestedEventsAreAllStored() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let port = api.port
            let key = api.keys["writer"]!
            // 100 requests of 100 events, 8 at a time.
            let ids = await withTaskGroup(of: [Int].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var ids: [Int] = []
                        for batch in stride(from: worker, to: 100, by: 8) {
                            let events = (0..<100).map { i in
                                #"{"type": "tool.end", "session_id": "bulk", "tool": "t", "span_id": "s\#(batch)-\#(i)", "trace_id": "tr\#(batch)", "client_ts": "2026-12-02T10:00:00Z", "payload": {"n": \#(batch * 100 + i)}}"#
                            }
                            let answer = await http(port, "POST", "/v1/events", headers: ["Authorization": "Bearer \(key)"], body: "[" + events.joined(separator: ",") + "]")
                            ids += (answer?.json["ids"] as? [Int]) ?? []
                        }
                        return ids
                    }
                }
                var all: [Int] = []
                for await part in group { all += part }
                return all
            }
            #expect(ids.count == 10_000)
            #expect(Set(ids).count == 10_000)
            let stored = await api.events(as: "writer", query: "&session=bulk")
            #expect(stored.count == 10_000)
            let numbers = Set(stored.compactMap { ($0["detail"] as? [String: Any])?["n"] as? Int })
            #expect(numbers == Set(0..<10_000))
            #expect(stored.allSatisfy { $0["agent"] as? String == "writer" && $0["trace_id"] != nil })

            // Reported events are checked: their kind, state, clock and size.
            let forged = await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "tool.result", "session_id": "x"}"#)
            #expect(forged.status == 400, "an agent cannot write the router's own event types")
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "status", "session_id": "x", "state": "SLEEPING"}"#).status == 400)
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "status", "session_id": "x", "client_ts": "yesterday"}"#).status == 400)
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "status", "session_id": "x", "agent": "boss"}"#).status == 400)
            #expect(await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "model.switch", "session_id": "x"}"#).status == 400)
            let secret = await api.call("POST", "/v1/events", as: "writer", body: #"{"type": "model.switch", "session_id": "m", "payload": {"model": "opus", "api_key": "sk-live-123456"}}"#)
            #expect(secret.status == 201)
            let switched = await api.events(as: "writer", query: "&session=m")
            #expect(switched.count == 1)
            #expect(!String(describing: switched).contains("sk-live-123456"), "secrets are redacted before they are stored")
            let agents = await api.call("GET", "/v1/agents", as: "writer").json["agents"] as? [[String: Any]] ?? []
            #expect(agents.first?["model"] as? String == "opus")
        }
    }

    @Test func aStreamResumesWithLastEventIDWithoutAGapOrADuplicate() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { keep_alive: 1s }"))
            let port = api.port
            let key = api.keys["writer"]!
            // A writer reports 600 events, in batches, while readers come and go.
            let writer = Task {
                for batch in 0..<60 {
                    let events = (0..<10).map { #"{"type": "status", "session_id": "live", "payload": {"n": \#(batch * 10 + $0)}}"# }
                    _ = await http(port, "POST", "/v1/events", headers: ["Authorization": "Bearer \(key)"], body: "[" + events.joined(separator: ",") + "]")
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            var seen: [Int] = []
            var lastId: String?
            // Four readers in turn, each reading a few events and disconnecting.
            for reader in 0..<4 {
                let resume = lastId
                let wanted = reader == 3 ? 600 - seen.count : 97
                let part: (numbers: [Int], last: String?) = await onThread {
                    var headers = ["Authorization": "Bearer \(key)"]
                    if let resume { headers["Last-Event-ID"] = resume }
                    guard let stream = SSEStream(port, "/v1/events/stream?session=live", headers: headers) else { return ([], resume) }
                    var numbers: [Int] = []
                    var last = resume
                    while numbers.count < wanted, let event = stream.next(timeout: 20) {
                        numbers.append((jsonObject(event.data)["detail"] as? [String: Any])?["n"] as? Int ?? -1)
                        last = event.id
                    }
                    return (numbers, last)
                }
                seen += part.numbers
                lastId = part.last
                if seen.count >= 600 { break }
            }
            await writer.value
            #expect(seen.count == 600, "read \(seen.count) events")
            #expect(seen == Array(0..<600), "no gap, no duplicate, in order")
        }
    }

    @Test func limitsRefuseOversizedBodiesBurstsExtraStreamsAndForeignOrigins() async throws {
        try await withTemporaryDirectory { dir in
            let limits = "http: { max_body_bytes: 2048, rate_limit: 0.1, rate_burst: 5, max_streams: 2, max_streams_per_agent: 1, allowed_origins: [\"https://console.example\"] }"
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: limits))
            let big = #"{"arguments": {"text": ""# + String(repeating: "x", count: 4096) + #""}}"#
            let tooLarge = await api.call("POST", "/v1/tools/memory_write/call", as: "boss", body: big)
            #expect(tooLarge.status == 413, "\(tooLarge.body)")

            var statuses: [Int] = []
            for _ in 0..<8 { statuses.append(await api.call("GET", "/v1/tools", as: "reader").status) }
            #expect(statuses.prefix(4).allSatisfy { $0 == 200 })
            #expect(statuses.contains(429))
            let limited = await api.call("GET", "/v1/tools", as: "reader")
            #expect(limited.status == 429 && Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
            #expect(await api.call("GET", "/v1/tools", as: "writer").status == 200, "each key has its own bucket")

            let port = api.port
            let (writer, boss) = (api.keys["writer"]!, api.keys["boss"]!)
            let streams: [Int] = await onThread {
                // writer: its one stream, then refused its second; boss: the second and last slot of the host.
                var open: [SSEStream] = []
                var statuses: [Int] = []
                for key in [writer, writer, boss, boss] {
                    let stream = SSEStream(port, "/v1/events/stream", headers: ["Authorization": "Bearer \(key)"])
                    _ = stream?.head()
                    statuses.append(stream?.status ?? 0)
                    if let stream { open.append(stream) }
                }
                return statuses
            }
            #expect(streams == [200, 503, 200, 503], "per agent, then for the host")

            // Guessing keys spends the address's bucket: 401s, then 429.
            var guesses: [Int] = []
            for i in 0..<8 { guesses.append(await api.call("GET", "/v1/tools", as: "ah_guess\(i)").status) }
            #expect(guesses.prefix(5).allSatisfy { $0 == 401 } && guesses.last == 429, "\(guesses)")

            #expect(await api.call("GET", "/v1/skills", as: "writer", headers: ["Origin": "https://evil.example"]).status == 403)
            #expect(await api.call("GET", "/v1/skills", as: "writer", headers: ["Origin": "https://console.example"]).status == 200)
            #expect(await api.call("GET", "/v1/skills", as: "writer", headers: ["Origin": "http://localhost:\(api.port)"]).status == 200)
        }
    }
}

/// schemathesis (PyPI) against `/v1/openapi.json` and the live server: no 5xx, and every answer
/// (status, content type, headers, body) matches the document.
@Suite(.serialized) struct HTTPAPIContractTests {
    @Test func schemathesisFindsNoServerErrorAndNoAnswerOutsideTheDocument() async throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        let schemathesis = URL(fileURLWithPath: python).deletingLastPathComponent().path + "/schemathesis"
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "schemathesis is not in the test virtualenv: run `make test`")
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let base = "http://127.0.0.1:\(api.port)"
            let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
            // Streams never end on their own: schemathesis reads each until its timeout, so they get a few examples
            // of their own and every other operation the full run.
            let streams = "^/v1/events/stream$"
            let runs: [(agent: String, scope: [String], examples: String)] = [
                ("boss", ["--exclude-path-regex", streams], "12"), ("reader", ["--exclude-path-regex", streams], "12"),
                ("reader", ["--include-path-regex", streams], "3"),
            ]
            for run in runs {
                let result = try await TestSupport.run(schemathesis, [
                    "run", base + "/v1/openapi.json", "--url", base, "-H", "Authorization: Bearer \(api.keys[run.agent]!)",
                    "--checks", checks, "--max-examples", run.examples, "--request-timeout", "3", "--no-color",
                ] + run.scope, in: dir)
                let tail = result.stdout.split(separator: "\n").suffix(40).joined(separator: "\n")
                #expect(result.status == 0, "schemathesis as \(run.agent) \(run.scope):\n\(tail)\n\(result.stderr.suffix(2000))")
            }
        }
    }
}

/// The HTTP front's behaviour at its edges: shutdown with streams open, stalled clients, slow readers.
@Suite(.serialized) struct HTTPAPIEdgeTests {
    @Test func shutdownEndsOpenStreamsAndTheHostExitsInTime() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir)
            let port = api.port
            let key = api.keys["writer"]!
            let opened = await api.call("POST", "/mcp", as: "writer", body: #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}"#,
                                        headers: ["Accept": "application/json, text/event-stream"])
            let session = try #require(opened.headers["mcp-session-id"])
            let ended: Bool = await onThread {
                guard let events = SSEStream(port, "/v1/events/stream", headers: ["Authorization": "Bearer \(key)"]),
                      let mcp = SSEStream(port, "/mcp", headers: ["Authorization": "Bearer \(key)", "Mcp-Session-Id": session]),
                      events.head(), mcp.head(), events.status == 200, mcp.status == 200 else { return false }
                api.host.signal(SIGTERM)
                // Both streams end (EOF) rather than hang.
                var eventsEnded = false, mcpEnded = false
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline, !(eventsEnded && mcpEnded) {
                    if !eventsEnded, events.next(timeout: 1) == nil, events.atEnd { eventsEnded = true }
                    if !mcpEnded, mcp.next(timeout: 1) == nil, mcp.atEnd { mcpEnded = true }
                }
                return eventsEnded && mcpEnded
            }
            #expect(ended, "streams still open after SIGTERM")
            #expect(await api.host.waitExit(timeout: 15), "the host did not exit: \(api.host.stderr.suffix(2000))")
        }
    }

    @Test func aStalledClientIsDisconnected() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { idle_timeout: 1s }"))
            let port = api.port
            let closedAfter: Double? = await onThread {
                guard let fd = connectLocal(port, timeout: 1) else { return nil }
                defer { close(fd) }
                _ = "GET /v1/tools HTTP/1.1\r\nHost: 127.0.0.1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                let start = Date()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while Date().timeIntervalSince(start) < 30 {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return Date().timeIntervalSince(start) }
                }
                return nil
            }
            #expect(closedAfter != nil, "a client that never finished its request was never disconnected")
        }
    }

    @Test func aSlowReaderLosesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: APIHost.manifest(http: "http: { ingest_rate: 100000, ingest_burst: 5000 }"))
            let port = api.port
            let key = api.keys["writer"]!
            for batch in 0..<5 {
                let events = (0..<1000).map { #"{"type": "status", "session_id": "slow", "payload": {"n": \#(batch * 1000 + $0), "pad": "\#(String(repeating: "x", count: 200))"}}"# }
                #expect(await http(port, "POST", "/v1/events", headers: ["Authorization": "Bearer \(key)"], body: "[" + events.joined(separator: ",") + "]")?.status == 201)
            }
            let numbers: [Int] = await onThread {
                guard let stream = SSEStream(port, "/v1/events/stream?session=slow", headers: ["Authorization": "Bearer \(key)"]) else { return [] }
                var numbers: [Int] = []
                while numbers.count < 5000, let event = stream.next(timeout: 20) {
                    numbers.append((jsonObject(event.data)["detail"] as? [String: Any])?["n"] as? Int ?? -1)
                    if numbers.count % 100 == 0 { usleep(50_000) }  // reads slower than the host writes
                }
                return numbers
            }
            #expect(numbers == Array(0..<5000))
        }
    }
}
