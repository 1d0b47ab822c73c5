import Base
import Foundation
import Logging
import Plugins
import Registry
import Testing
@testable import Host

/// Collects what an `MCPServer` sends, and waits for it.
final class SentMessages: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [JSONValue] = []

    func append(_ message: JSONRPCMessage) { lock.withLock { messages.append(message.json) } }
    var all: [JSONValue] { lock.withLock { messages } }

    func answer(to id: Int) -> JSONValue? { all.first { $0["id"] == .int(id) } }
    func notifications(_ method: String) -> Int { all.filter { $0["method"] == .string(method) && $0["id"] == nil }.count }

    /// Polls (without blocking a thread) until `condition` holds or two seconds pass.
    func wait(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<400 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }
}

@Suite struct MCPServerTests {
    let sent = SentMessages()

    func server(_ dir: String, pageSize: Int = 100, manifest: String = probeManifest) throws -> (MCPServer, RegistryDatabase, ToolRouter) {
        let (router, registry) = try probeRouter(dir, manifest: manifest)
        let parsed = try ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:])
        let host = ToolHost(router: router, identity: CallerIdentity(manifest: parsed), plugins: [])
        var settings = MCPServer.Settings()
        settings.pageSize = pageSize
        let sent = self.sent
        let server = MCPServer(host: host, registry: registry, caller: worker, settings: settings, logger: Logger(label: "test")) { sent.append($0) }
        return (server, registry, router)
    }

    func line(_ json: String) -> [UInt8] { Array(json.utf8) }

    func initialize(_ server: MCPServer) async {
        server.receive(line: line(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#))
        server.receive(line: line(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#))
        #expect(await sent.wait { sent.answer(to: 1) != nil })
    }

    @Test func aCancelledCallIsCancelledInTheRouterAndNeverAnswered() async throws {
        try await withTemporaryDirectory { dir in
            let (server, registry, router) = try server(dir)
            await initialize(server)
            server.receive(line: line(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":20000}}}"#))
            #expect(await sent.wait { server.inFlightCount == 1 })
            server.receive(line: line(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"user pressed stop"}}"#))
            #expect(await sent.wait { server.inFlightCount == 0 }, "the call should end as soon as it is cancelled, not after 20 s")
            // A ping sent after the cancellation is answered after anything the cancelled call could
            // still have written: once its answer is here, the cancelled request's never comes.
            server.receive(line: line(#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#))
            #expect(await sent.wait { sent.answer(to: 6) != nil })
            #expect(sent.answer(to: 5) == nil, "a cancelled request gets no response")
            await router.recorder.flush()
            let failed = try registry.traceEvents(TraceQuery(types: ["tool.failed"]))
            #expect(failed.contains { $0.tool == "sleep" && $0.detail?["error"] == "cancelled" })
        }
    }

    @Test func shutdownCancelsEveryRequestInFlight() async throws {
        try await withTemporaryDirectory { dir in
            let (server, _, _) = try server(dir)
            await initialize(server)
            for id in 10..<14 {
                server.receive(line: line(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"sleep","arguments":{"ms":20000}}}"#))
            }
            #expect(await sent.wait { server.inFlightCount == 4 })
            await server.shutdown(grace: .seconds(15))
            #expect(server.inFlightCount == 0, "the 20 s calls ended because shutdown cancelled them")
            #expect((10..<14).allSatisfy { sent.answer(to: $0) == nil })
        }
    }

    @Test func toolsListPagesWithACursorAndShowsOnlyWhatTheRoleMayCall() async throws {
        try await withTemporaryDirectory { dir in
            let (server, _, _) = try server(dir, pageSize: 2)
            await initialize(server)
            var names: [String] = []
            var cursor: String?
            var id = 100
            repeat {
                id += 1
                let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
                server.receive(line: line(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/list","params":\#(params)}"#))
                let requestId = id
                #expect(await sent.wait { sent.answer(to: requestId) != nil })
                let result = sent.answer(to: id)?["result"]
                names += (result?["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                cursor = result?["nextCursor"]?.stringValue
            } while cursor != nil && id < 120
            #expect(names == ["echo", "sleep", "stubborn", "crash", "block", "approve_me"])
            #expect(id == 103, "six tools in pages of two take three requests")
        }
    }

    @Test func requestsBeforeInitializeAreRefusedButPingAndDiscoverAreAnswered() async throws {
        // (A request carrying a 2026-07-28 envelope needs no handshake: MCPStdioModernTests.)
        try await withTemporaryDirectory { dir in
            let (server, _, _) = try server(dir)
            server.receive(line: line(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#))
            server.receive(line: line(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#))
            server.receive(line: line(#"{"jsonrpc":"2.0","id":3,"method":"server/discover","params":{}}"#))
            #expect(sent.answer(to: 1)?["error"]?["code"] == -32600)
            #expect(sent.answer(to: 1)?["error"]?["message"]?.stringValue?.contains("before initialize") == true)
            #expect(sent.answer(to: 2)?["result"] == [:])
            // The probe names every version spoken, so a client may go on with either era.
            let versions = sent.answer(to: 3)?["result"]?["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(versions.contains("2026-07-28") && versions.contains("2025-11-25"), "\(versions)")
        }
    }

    @Test func listChangedIsSentOnlyWhenWhatTheRoleSeesChanges() async throws {
        try await withTemporaryDirectory { dir in
            try write("""
                ---
                name: first
                description: The first skill.
                ---
                Do the first thing.
                """, to: "skills/first/SKILL.md", in: dir)
            let manifest = probeManifest + "\nsources:\n  - name: local\n    path: ./skills\n"
            try write(manifest, to: "registry.yaml", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "test"), environment: [:])
            _ = try context.syncer.sync()
            let parsed = try ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:])
            func host(_ yaml: String) throws -> ToolHost {
                let (router, _) = try probeRouter(dir + "/registry-\(UUID().uuidString)", manifest: yaml)
                return ToolHost(router: router, identity: CallerIdentity(manifest: parsed), plugins: [])
            }
            try FileManager.default.createDirectory(atPath: dir + "/x", withIntermediateDirectories: true)
            let sent = self.sent
            let server = MCPServer(host: try host(manifest), registry: context.db, caller: worker, logger: Logger(label: "test")) { sent.append($0) }
            await initialize(server)

            server.replace(host: try host(manifest))
            server.listsMayHaveChanged()
            await server.listChecksSettled()
            #expect(sent.notifications("notifications/tools/list_changed") == 0, "nothing changed")

            server.replace(host: try host(manifest.replacingOccurrences(of: "- deny: [danger]", with: "- deny: [danger, echo]")))
            await server.listChecksSettled()
            #expect(sent.notifications("notifications/tools/list_changed") == 1)
            #expect(sent.notifications("notifications/resources/list_changed") == 0)

            try write("---\nname: second\ndescription: The second skill.\n---\nDo the second thing.\n", to: "skills/second/SKILL.md", in: dir)
            _ = try context.syncer.sync()
            server.listsMayHaveChanged()
            await server.listChecksSettled()
            #expect(sent.notifications("notifications/resources/list_changed") == 1)
            #expect(sent.notifications("notifications/prompts/list_changed") == 1)
            #expect(sent.notifications("notifications/tools/list_changed") == 1)

            server.receive(line: line(#"{"jsonrpc":"2.0","id":50,"method":"prompts/list"}"#))
            #expect(await sent.wait { sent.answer(to: 50) != nil })
            let prompts = sent.answer(to: 50)?["result"]?["prompts"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(prompts == ["first", "second"])
        }
    }

    @Test func aRequestIdInUseIsRefusedWhileItsFirstRequestRuns() async throws {
        try await withTemporaryDirectory { dir in
            let (server, _, _) = try server(dir)
            await initialize(server)
            server.receive(line: line(#"{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"sleep","arguments":{"ms":300}}}"#))
            server.receive(line: line(#"{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"echo"}}"#))
            #expect(await sent.wait { sent.all.filter { $0["id"] == "dup" }.count == 2 })
            let answers = sent.all.filter { $0["id"] == "dup" }
            #expect(answers.first?["error"]?["message"]?.stringValue?.contains("already in use") == true)
            #expect(answers.last?["result"]?["content"] != nil)
        }
    }
}

@Suite struct RequestIDSnifferTests {
    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"x":"#, JSONRPCID.int(77) as JSONRPCID?),
        (#"{"method":"tools/call","id":"abc","params":"#, .string("abc")),
        (#"{"jsonrpc":"2.0","method":"tools/call","params":{"id":5,"text":"xxxx"#, nil),
        (#"{"jsonrpc":"2.0","params":{"a":"\"id\":9"},"id":-3,"#, .int(-3)),
        (#"{"jsonrpc":"2.0","method":"x","params":{"text":"aaaa"#, nil),
    ])
    func findsOnlyATopLevelId(_ prefix: String, _ expected: JSONRPCID?) {
        #expect(RequestIDSniffer.id(in: Array(prefix.utf8)) == expected)
    }
}
