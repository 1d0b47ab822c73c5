import Base
import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// Long tool calls as tasks (the MCP Tasks extension) over `agenthub mcp`, with raw JSON-RPC in the
/// 2026-07-28 envelope (the Python SDK has no client for the extension): a bridged server that knows
/// nothing of tasks is called through them, polled to completion past `router.timeout`, cancelled
/// (the server sees it), and a host killed mid-task leaves the task `failed`, not `working`.
@Suite(.serialized) struct TasksTests {
    static func manifest(_ dir: String) -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        router: { timeout: 2s, task_after: 300ms }
        policy:
          default: deny
          approval_timeout: 2m
          rules:
            - allow: [t__sleep, t__fail]
            - ask: [t__echo]
        roles:
          worker: {}
        plugins:
          mcp:
            startup_wait: 60s
            servers:
        \(BridgeHost.testServer("t", extra: "        env: { MARKER_DIR: \(dir) }"))
        """
    }

    /// One `agenthub mcp` client speaking 2026-07-28 with every request's own envelope.
    final class Client: @unchecked Sendable {
        let process: RunningProcess
        var nextId = 0
        let tasks: Bool

        init(_ dir: String, agent: String, tasks: Bool = true) throws {
            process = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", agent, "--no-sync"], in: dir)
            self.tasks = tasks
        }

        /// A client over an `agenthub mcp` the caller started.
        init(process: RunningProcess, tasks: Bool) {
            self.process = process
            self.tasks = tasks
        }

        func ask(_ method: String, _ params: [String: Any] = [:], timeout: Double = 60) async -> [String: Any] {
            let id = post(method, params)
            while true {
                let message = await process.nextJSON(timeout: timeout)
                if message["id"] as? Int == id || message["missing"] != nil { return message }
            }
        }

        /// Sends a request without waiting for its answer; its id.
        @discardableResult
        func post(_ method: String, _ params: [String: Any] = [:]) -> Int {
            nextId += 1
            var params = params
            var capabilities: [String: Any] = [:]
            if tasks { capabilities["extensions"] = ["io.modelcontextprotocol/tasks": [String: Any]()] }
            var meta = params["_meta"] as? [String: Any] ?? [:]
            meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28"
            meta["io.modelcontextprotocol/clientCapabilities"] = capabilities
            params["_meta"] = meta
            let line = String(decoding: try! JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": nextId, "method": method, "params": params]), as: UTF8.self)
            process.send(line + "\n")
            return nextId
        }

        /// Lists the tools once: the first list waits for bridged servers still starting.
        func ready() async -> Self {
            _ = await ask("tools/list")
            return self
        }

        func call(_ tool: String, _ arguments: [String: Any]) async -> [String: Any] {
            await ask("tools/call", ["name": tool, "arguments": arguments])["result"] as? [String: Any] ?? [:]
        }

        /// Polls `tasks/get` until the task ends (or `limit` seconds pass).
        func finished(_ id: String, limit: Double = 60) async -> [String: Any] {
            let start = Date()
            while Date().timeIntervalSince(start) < limit {
                let task = await ask("tasks/get", ["taskId": id])["result"] as? [String: Any] ?? [:]
                if let status = task["status"] as? String, !["working", "input_required"].contains(status) { return task }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return [:]
        }
    }

    @Test func aSlowBridgedCallBecomesATaskThatOutlivesTheRouterTimeoutAndCanBeCancelled() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let client = try await Client(dir, agent: "ada").ready()
            defer { client.process.closeInput() }
            // Quick calls are answered inline even for a client that declared tasks, with their progress.
            let asked = client.post("tools/call", ["name": "t__sleep", "arguments": ["seconds": 0.1], "_meta": ["progressToken": "p-1"]])
            var notes: [[String: Any]] = []
            var quick: [String: Any] = [:]
            while quick.isEmpty {
                let message = await client.process.nextJSON(timeout: 30)
                if message["missing"] != nil { break }
                if message["id"] as? Int == asked { quick = message["result"] as? [String: Any] ?? ["error": message] }
                else if message["method"] as? String == "notifications/progress" { notes.append(message["params"] as? [String: Any] ?? [:]) }
            }
            // (On a machine too loaded to answer within task_after it is a task, which is not what this checks.)
            #expect(["complete", "task"].contains(quick["resultType"] as? String ?? ""), "\(quick)")
            if quick["resultType"] as? String == "complete" {
                #expect((quick["content"] as? [[String: Any]])?.first?["text"] as? String == "slept", "\(quick)")
                #expect(!notes.isEmpty && notes.allSatisfy { $0["progressToken"] as? String == "p-1" }, "\(notes)")
            }
            // A call still running after task_after is a task; it runs past router.timeout (2s).
            let started = await client.call("t__sleep", ["seconds": 3.5])
            #expect(started["resultType"] as? String == "task" && started["status"] as? String == "working", "\(started)")
            let id = try #require(started["taskId"] as? String)
            let done = await client.finished(id)
            #expect(done["status"] as? String == "completed", "\(done)")
            #expect(((done["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "slept", "\(done)")
            // Cancelled: the server that knows nothing of tasks sees the cancellation.
            let long = await client.call("t__sleep", ["seconds": 30])
            let longId = try #require(long["taskId"] as? String)
            let ack = await client.ask("tasks/cancel", ["taskId": longId])
            #expect(ack["result"] != nil, "\(ack)")
            let cancelled = await client.finished(longId, limit: 20)
            #expect(cancelled["status"] as? String == "cancelled", "\(cancelled)")
            var marked = false
            for _ in 0..<100 where !marked {
                marked = FileManager.default.fileExists(atPath: dir + "/cancelled")
                if !marked { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(marked, "the bridged server never saw the cancellation")
            // Unknown ids, and a client without the extension.
            let unknown = await client.ask("tasks/get", ["taskId": "tsk_nope"])
            #expect((unknown["error"] as? [String: Any])?["code"] as? Int == -32602, "\(unknown)")
        }
    }

    @Test func aTaskIsItsAgentsAloneAndAClientWithoutTheExtensionGetsTodaysBehaviour() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let ada = try await Client(dir, agent: "ada").ready()
            defer { ada.process.closeInput() }
            let started = await ada.call("t__sleep", ["seconds": 1.5])
            let id = try #require(started["taskId"] as? String, "\(started)")
            let bob = try await Client(dir, agent: "bob").ready()
            defer { bob.process.closeInput() }
            let theirs = await bob.ask("tasks/get", ["taskId": id])
            let mine = await ada.ask("tasks/get", ["taskId": "tsk_" + String(repeating: "0", count: 32)])
            #expect((theirs["error"] as? [String: Any])?["code"] as? Int == -32602, "\(theirs)")
            #expect((theirs["error"] as? [String: Any])?["message"] as? String == (mine["error"] as? [String: Any])?["message"] as? String)
            let plain = try await Client(dir, agent: "ada", tasks: false).ready()
            defer { plain.process.closeInput() }
            let refused = await plain.ask("tasks/get", ["taskId": id])
            #expect((refused["error"] as? [String: Any])?["code"] as? Int == -32021, "\(refused)")
            // Without the extension a call is answered inline, and router.timeout still ends it.
            let inline = await plain.call("t__sleep", ["seconds": 3])
            #expect(inline["resultType"] as? String == "complete" && inline["isError"] as? Bool == true, "\(inline)")
        }
    }

    @Test func aListenerIsToldOfItsOwnTasksChangesUntilTheyEnd() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let ada = try await Client(dir, agent: "ada").ready()
            defer { ada.process.closeInput() }
            // A long call (it is cancelled below): what the listener is told does not race its end.
            let started = await ada.call("t__sleep", ["seconds": 60])
            let id = try #require(started["taskId"] as? String, "\(started)")
            let listen = ada.post("subscriptions/listen", ["notifications": ["taskIds": [id, "tsk_unknown"], "toolsListChanged": true]])
            let ack = await ada.process.nextJSON(timeout: 30)
            let honored = (ack["params"] as? [String: Any])?["notifications"] as? [String: Any]
            #expect(ack["method"] as? String == "notifications/subscriptions/acknowledged" && honored?["taskIds"] as? [String] == [id], "\(ack)")
            #expect(honored?["toolsListChanged"] as? Bool == true)
            // Its state now, then each change until it ends, tagged with the subscription, in the tasks/get shape.
            var seen: [[String: Any]] = []
            func next() async -> [String: Any]? {
                while true {
                    let message = await ada.process.nextJSON(timeout: 30)
                    if message["id"] != nil { continue }  // the answer to tasks/cancel
                    guard message["method"] as? String == "notifications/tasks", let params = message["params"] as? [String: Any] else {
                        Issue.record("expected notifications/tasks, got \(message)")
                        return nil
                    }
                    #expect(params["taskId"] as? String == id && (params["_meta"] as? [String: Any])?["io.modelcontextprotocol/subscriptionId"] as? Int == listen)
                    return params
                }
            }
            if let now = await next() { seen.append(now) }
            #expect(seen.first?["status"] as? String == "working", "\(seen)")
            ada.post("tasks/cancel", ["taskId": id])
            while let last = seen.last?["status"] as? String, ["working", "input_required"].contains(last), let params = await next() { seen.append(params) }
            #expect(seen.last?["status"] as? String == "cancelled", "\(seen)")
            // Another agent cannot follow it: its acknowledgement names no task.
            let bob = try await Client(dir, agent: "bob").ready()
            defer { bob.process.closeInput() }
            bob.post("subscriptions/listen", ["notifications": ["taskIds": [id]]])
            let refused = await bob.process.nextJSON(timeout: 30)
            #expect(refused["method"] as? String == "notifications/subscriptions/acknowledged", "\(refused)")
            #expect(((refused["params"] as? [String: Any])?["notifications"] as? [String: Any])?["taskIds"] as? [String] == [], "\(refused)")

            // A listen naming thousands of ids looks at the first 100 only.
            let flood = ["tsk_x"] + (0..<5000).map { "tsk_\($0)" } + [id]
            bob.post("subscriptions/listen", ["notifications": ["taskIds": flood]])
            var bounded = await bob.process.nextJSON(timeout: 30)
            // (The listen it replaces is answered first.)
            if bounded["id"] != nil { bounded = await bob.process.nextJSON(timeout: 30) }
            #expect(((bounded["params"] as? [String: Any])?["notifications"] as? [String: Any])?["taskIds"] as? [String] == [], "\(bounded)")
            // A client that did not declare the extension may not ask for task notifications.
            let plain = try await Client(dir, agent: "ada", tasks: false).ready()
            defer { plain.process.closeInput() }
            let error = await plain.ask("subscriptions/listen", ["notifications": ["taskIds": [id]]])
            #expect((error["error"] as? [String: Any])?["code"] as? Int == -32021, "\(error)")
        }
    }

    @Test func routerTaskToolsDecidesPerToolTheMostSpecificPatternWinning() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = Self.manifest(dir).replacingOccurrences(of: "router: { timeout: 2s, task_after: 300ms }",
                                                                   with: #"router: { timeout: 2s, task_after: 300ms, task_tools: { "t__*": never, t__sleep: always } }"#)
            try write(manifest, to: "registry.yaml", in: dir)
            let client = try await Client(dir, agent: "ada").ready()
            defer { client.process.closeInput() }
            // `always` by name: even a quick call is a task.
            let quick = await client.call("t__sleep", ["seconds": 0.01])
            #expect(quick["resultType"] as? String == "task", "\(quick)")
            // `never` by pattern: answered inline, as for a client without the extension.
            let failed = await client.call("t__fail", [:])
            #expect(failed["resultType"] as? String == "complete" && failed["isError"] as? Bool == true, "\(failed)")
        }
    }

    @Test func aBridgedServerThatServesTasksHasItsTaskFollowedCancelledAndDeclinedThrough() async throws {
        try await withTemporaryDirectory { dir in
            let python = testPython() ?? "python3"
            let server = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop/tasks_server.py").path
            let manifest = Self.manifest(dir)
                .replacingOccurrences(of: "- allow: [t__sleep, t__fail]", with: "- allow: [t__sleep, t__fail, \"p__*\"]")
                + "\n      p:\n        command: \(python)\n        args: [\(server), \(dir)]\n        start_timeout: 60s\n"
            try write(manifest, to: "registry.yaml", in: dir)
            let client = try await Client(dir, agent: "ada").ready()
            defer { client.process.closeInput() }
            // Our task follows the server's task: its result, and its status messages on the way.
            let started = await client.call("p__build", ["seconds": 1.5])
            let id = try #require(started["taskId"] as? String, "\(started)")
            let done = await client.finished(id)
            #expect(((done["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "built in 1.5 s", "\(done)")
            let requests = try String(contentsOfFile: dir + "/requests", encoding: .utf8)
            #expect(requests.contains("tools/call tasks") && requests.contains("tasks/get tasks"), "\(requests)")
            // Cancelling ours cancels theirs.
            let long = await client.call("p__build", ["seconds": 30])
            let longId = try #require(long["taskId"] as? String, "\(long)")
            _ = await client.ask("tasks/cancel", ["taskId": longId])
            #expect((await client.finished(longId, limit: 20))["status"] as? String == "cancelled")
            var marked = false
            for _ in 0..<100 where !marked {
                marked = FileManager.default.fileExists(atPath: dir + "/cancelled")
                if !marked { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(marked, "the server never saw tasks/cancel")
            // Its JSON-RPC error is the call's error, naming the server; an input it asks for is declined.
            let broken = await client.call("p__broken", [:])
            #expect(broken["isError"] as? Bool == true && ((broken["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("the build exploded") == true, "\(broken)")
            let asked = await client.call("p__ask_name", [:])
            #expect((asked["content"] as? [[String: Any]])?.first?["text"] as? String == "declined", "\(asked)")
            // A client without the extension is answered inline: AgentHub follows the server's task itself.
            let plain = try await Client(dir, agent: "ada", tasks: false).ready()
            defer { plain.process.closeInput() }
            let inline = await plain.call("p__build", ["seconds": 0.5])
            #expect((inline["content"] as? [[String: Any]])?.first?["text"] as? String == "built in 0.5 s", "\(inline)")
        }
    }

    @Test func aHandshakeSessionThatDeclaredTheExtensionInInitializeGetsTasksToo() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let process = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", "ada", "--no-sync"], in: dir)
            defer { process.closeInput() }
            func ask(_ id: Int, _ method: String, _ params: String) async -> [String: Any] {
                process.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"# + "\n")
                while true {
                    let message = await process.nextJSON(timeout: 60)
                    if message["id"] as? Int == id || message["missing"] != nil { return message }
                }
            }
            let opened = await ask(1, "initialize", #"{"protocolVersion":"2025-11-25","capabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}},"clientInfo":{"name":"raw","version":"1"}}"#)
            #expect(((opened["result"] as? [String: Any])?["capabilities"] as? [String: Any])?["extensions"] != nil, "\(opened)")
            process.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"# + "\n")
            _ = await ask(2, "tools/list", "{}")
            let started = (await ask(3, "tools/call", #"{"name":"t__sleep","arguments":{"seconds":1}}"#))["result"] as? [String: Any] ?? [:]
            #expect(started["resultType"] as? String == "task", "\(started)")
            let id = try #require(started["taskId"] as? String)
            var status = ""
            for n in 4..<200 where status != "completed" {
                status = ((await ask(n, "tasks/get", #"{"taskId":"\#(id)"}"#))["result"] as? [String: Any])?["status"] as? String ?? "?"
                if status != "completed" { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == "completed")
        }
    }

    /// However the host goes (killed, asked to stop, its client gone), its task ends `failed` with
    /// why: never `working`, never `cancelled` or a tool error from its bridged server stopping.
    @Test(arguments: ["SIGKILL", "SIGTERM", "EOF"])
    func aTaskWhoseHostStopsEndsFailedNotWorking(how: String) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let first = try await Client(dir, agent: "ada").ready()
            let started = await first.call("t__sleep", ["seconds": 60])
            let id = try #require(started["taskId"] as? String, "\(started)")
            switch how {
            case "SIGKILL": first.process.signal(SIGKILL)
            case "SIGTERM": first.process.signal(SIGTERM)
            default: first.process.closeInput()
            }
            _ = await first.process.waitExit()
            let second = try await Client(dir, agent: "ada").ready()
            defer { second.process.closeInput() }
            let ended = await second.finished(id, limit: 30)
            #expect(ended["status"] as? String == "failed", "\(ended)")
            #expect((ended["error"] as? [String: Any])?["message"] as? String == TaskRunner.stoppedMessage, "\(ended)")
        }
    }

    @Test func anAskToolAsATaskWaitsForInputAndCompletesWhenApprovedFromAnotherProcess() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let client = try await Client(dir, agent: "ada").ready()
            defer { client.process.closeInput() }
            let started = await client.call("t__echo", ["text": "approve me"])
            #expect(started["resultType"] as? String == "task", "\(started)")
            let id = try #require(started["taskId"] as? String, "\(started)")
            var waiting: [String: Any] = [:]
            for _ in 0..<100 {
                waiting = await client.ask("tasks/get", ["taskId": id])["result"] as? [String: Any] ?? [:]
                if waiting["status"] as? String == "input_required" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(waiting["status"] as? String == "input_required", "\(waiting)")
            let request = ((waiting["inputRequests"] as? [String: Any])?["approval"] as? [String: Any])
            #expect(request?["method"] as? String == "elicitation/create", "\(waiting)")
            let pending = try await run(agenthubBinary(), ["approvals", "list", "--json"], in: dir)
            let approvals = (try? JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [[String: Any]]) ?? []
            let approval = try #require(approvals.first?["id"] as? String, "\(pending.stdout) \(pending.stderr)")
            let approved = try await run(agenthubBinary(), ["approvals", "approve", approval], in: dir)
            #expect(approved.status == 0, "\(approved.stderr)")
            let done = await client.finished(id)
            #expect(done["status"] as? String == "completed", "\(done)")
            #expect(((done["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "approve me", "\(done)")
        }
    }
}

/// Tasks outside MCP: `Prefer: respond-async` over HTTP, the task routes, and `agenthub tasks`.
@Suite(.serialized) struct TasksHTTPTests {
    static func manifest(_ dir: String) -> String {
        TasksTests.manifest(dir).replacingOccurrences(of: "roles:\n  worker: {}", with: """
            roles:
              worker: {}
            agents:
              ada: { role: worker }
              bob: { role: worker }
              boss: { role: worker, admin: true }
            """)
    }

    func finished(_ api: APIHost, _ location: String, as agent: String) async -> [String: Any] {
        for _ in 0..<300 {
            let task = await api.call("GET", location, as: agent).json
            if let status = task["status"] as? String, !["working", "input_required"].contains(status) { return task }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return [:]
    }

    @Test func respondAsyncGivesATaskURLThatCompletesAndTheRoutesListCancelAndRetryIt() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: Self.manifest(dir), agents: ["ada", "bob", "boss"])
            let prefer = ["Prefer": "respond-async"]
            // The bridged server may still be starting: a call that finds no tool yet is retried.
            var started = HTTPAnswer(status: 0, headers: [:], body: "")
            for _ in 0..<300 {
                started = await api.call("POST", "/v1/tools/t__sleep/call", as: "ada", body: #"{"arguments": {"seconds": 2.5}}"#, headers: prefer)
                if started.status != 404 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(started.status == 202, "\(started.body)")
            let location = try #require(started.headers["location"], "\(started.headers)")
            #expect(location.hasPrefix("/v1/tasks/tsk_") && started.json["status"] as? String == "working")
            let done = await finished(api, location, as: "ada")
            #expect(done["status"] as? String == "completed", "\(done)")
            #expect(((done["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String == "slept")
            // The event log has the task's start and end.
            var events: [[String: Any]] = []
            for _ in 0..<50 {
                events = await api.events(as: "ada", query: "&type=task.ended")
                if !events.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(events.contains { ($0["detail"] as? [String: Any])?["task_id"] as? String == String(location.dropFirst("/v1/tasks/".count)) }, "\(events)")
            // Another agent's task is not there for it; an admin sees it.
            #expect(await api.call("GET", location, as: "bob").status == 404)
            #expect(await api.call("GET", location, as: "boss").status == 200)
            let listed = await api.call("GET", "/v1/tasks?status=completed", as: "ada").json["tasks"] as? [[String: Any]] ?? []
            #expect(listed.contains { "/v1/tasks/" + ($0["id"] as? String ?? "") == location })

            // Retry: a new task linked to the old one.
            let retried = await api.call("POST", location + "/retry", as: "ada")
            #expect(retried.status == 202 && retried.json["retry_of"] as? String == String(location.dropFirst("/v1/tasks/".count)), "\(retried.body)")

            // Cancel from another process (`agenthub tasks cancel`): the serving host stops the call.
            let long = await api.call("POST", "/v1/tools/t__sleep/call", as: "ada", body: #"{"arguments": {"seconds": 60}}"#, headers: prefer)
            let longId = try #require(long.json["id"] as? String, "\(long.body)")
            let cancelled = try await run(agenthubBinary(), ["tasks", "cancel", longId], in: dir)
            #expect(cancelled.status == 0, "\(cancelled.stderr)")
            let ended = await finished(api, "/v1/tasks/\(longId)", as: "ada")
            #expect(ended["status"] as? String == "cancelled", "\(ended)")
            let shown = try await run(agenthubBinary(), ["tasks", "show", longId, "--json"], in: dir)
            #expect(jsonObject(shown.stdout)["status"] as? String == "cancelled", "\(shown.stdout)")
        }
    }

    @Test func aStatelessHTTPClientGetsATaskAndFollowsItWithMcpName() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await APIHost.start(dir, manifest: Self.manifest(dir), agents: ["ada"])
            var headers = MCPHTTPTests.accept
            headers["MCP-Protocol-Version"] = "2026-07-28"
            let meta = #""_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}"#
            var started: [String: Any] = [:]
            for _ in 0..<300 {
                let answer = await api.call("POST", "/mcp", as: "ada", body: #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "t__sleep", "arguments": {"seconds": 1.5}, \#(meta)}}"#,
                                            headers: headers.merging(["Mcp-Method": "tools/call", "Mcp-Name": "t__sleep"]) { $1 })
                started = answer.json["result"] as? [String: Any] ?? [:]
                if started["resultType"] != nil { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(started["resultType"] as? String == "task", "\(started)")
            let id = try #require(started["taskId"] as? String, "\(started)")
            var status = ""
            for _ in 0..<100 where status != "completed" {
                let got = await api.call("POST", "/mcp", as: "ada", body: #"{"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"taskId": "\#(id)", \#(meta)}}"#,
                                         headers: headers.merging(["Mcp-Method": "tasks/get", "Mcp-Name": id]) { $1 })
                status = (got.json["result"] as? [String: Any])?["status"] as? String ?? "?"
                if status != "completed" { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == "completed")
            // A listen stream asked for the task is acknowledged with it, then told of its (ended) state.
            let stream = try #require(SSEStream(api.port, "/mcp", method: "POST",
                                                headers: headers.merging(["Mcp-Method": "subscriptions/listen", "Authorization": "Bearer \(api.keys["ada"] ?? "")"]) { $1 },
                                                body: #"{"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": {"notifications": {"taskIds": ["\#(id)"]}, \#(meta)}}"#))
            let acknowledged = await onThread { stream.next(timeout: 30) }
            #expect(((jsonObject(acknowledged?.data)["params"] as? [String: Any])?["notifications"] as? [String: Any])?["taskIds"] as? [String] == [id],
                    "\(acknowledged?.data ?? "nothing")")
            let told = jsonObject(await onThread { stream.next(timeout: 30) }?.data)
            let params = told["params"] as? [String: Any]
            #expect(told["method"] as? String == "notifications/tasks" && params?["status"] as? String == "completed" && params?["result"] != nil, "\(told)")
            #expect((params?["_meta"] as? [String: Any])?["io.modelcontextprotocol/subscriptionId"] as? Int == 9)
            let mismatched = await api.call("POST", "/mcp", as: "ada", body: #"{"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"taskId": "\#(id)", \#(meta)}}"#,
                                            headers: headers.merging(["Mcp-Method": "tasks/get", "Mcp-Name": "tsk_other"]) { $1 })
            #expect((mismatched.json["error"] as? [String: Any])?["code"] as? Int == -32020, "\(mismatched.body)")
        }
    }
}
