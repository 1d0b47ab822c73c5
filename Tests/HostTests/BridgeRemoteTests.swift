import Base
import Foundation
import Plugins
import TestSupport
import Testing
@testable import Host

/// A remote MCP server for the bridge: the Python SDK's own Streamable HTTP or HTTP+SSE transport,
/// on a port of its own, dying with the test.
final class RemoteTestServer: @unchecked Sendable {
    static let script = packageRoot + "/Tests/Interop/remote_server.py"
    static let oauthScript = packageRoot + "/Tests/Interop/oauth_server.py"
    let port: Int
    let transport: String
    let arguments: [String]
    private(set) var process: RunningProcess

    /// `transport` is the remote server's (`streamable-http`, `sse`, `hang`), or `oauth` for the OAuth-protected one.
    init(_ transport: String, port: Int = ServerProcess.freePort(), arguments: [String] = [], in dir: String) async throws {
        self.port = port
        self.transport = transport
        self.arguments = arguments
        process = try await Self.launch(port, transport, arguments, dir)
    }

    private static func launch(_ port: Int, _ transport: String, _ arguments: [String], _ dir: String) async throws -> RunningProcess {
        let python = try #require(testPython(), "the test virtualenv (make test) has the mcp SDK")
        let command = transport == "oauth" ? [oauthScript, String(port)] : [script, String(port), transport]
        let process = try RunningProcess(python, command + arguments, in: dir)
        let ready = await process.nextLine(timeout: 90)
        try #require(ready == "READY", "the remote test server did not start: \(process.stderr)")
        return process
    }

    var url: String { transport == "sse" ? "http://127.0.0.1:\(port)/sse" : "http://127.0.0.1:\(port)/mcp" }

    /// Kills it at once (a crash, or the machine it runs on going away).
    func kill() async {
        process.signal(SIGKILL)
        _ = await process.waitExit()
    }

    /// Starts it again on the same port.
    func restart(in dir: String) async throws {
        process = try await Self.launch(port, transport, arguments, dir)
    }
}

/// Remote servers behind the bridge: listing, calls, progress, cancellation, list changes, a
/// restart survived and a hung server failing fast, in both Streamable HTTP revisions and over
/// the older HTTP+SSE transport.
@Suite(.serialized) struct BridgeRemoteTests {
    static func entry(_ server: RemoteTestServer, protocol revision: String? = nil, extra: String = "") -> String {
        var text = """
                  remote:
                    url: \(server.url)
                    start_timeout: 60s
            """
        if server.transport == "sse" { text += "\n        transport: sse" }
        if let revision { text += "\n        protocol: \(revision)" }
        if !extra.isEmpty { text += "\n" + extra }
        return text
    }

    @Test(arguments: [("handshake", "2025-11-25"), ("stateless", "2026-07-28"), ("auto", "2026-07-28")])
    func aStreamableHTTPServerIsBridgedInEachRevision(revision: String, expected: String) async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("streamable-http", in: dir)
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, protocol: revision))
            let status = try #require(host.status("remote"))
            #expect(status.state == .ready, "\(status.lastExit ?? "")")
            #expect(status.protocolVersion == expected)
            #expect(status.url == server.url)
            #expect(status.transport == "streamable HTTP")
            let names = Set(host.router.tools(for: worker).map(\.descriptor.name))
            #expect(names.isSuperset(of: ["remote__echo", "remote__sleep", "remote__add_tool"]))
            let echoed = await host.call("remote__echo", ["text": "over http"])
            #expect(echoed.status == .succeeded, "\(echoed.result.text)")
            #expect(echoed.result.text == "over http")
            // Many calls at once share the one session.
            let texts = await withTaskGroup(of: String.self) { group in
                for i in 0..<12 { group.addTask { await host.call("remote__echo", ["text": .string("call \(i)")]).result.text } }
                return await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(texts == Set((0..<12).map { "call \($0)" }))
            await host.stop()
        }
    }

    @Test func aServerOnTheOlderSSETransportIsBridged() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("sse", in: dir)
            let host = try await BridgeHost.start(dir, servers: Self.entry(server))
            let status = try #require(host.status("remote"))
            #expect(status.state == .ready, "\(status.lastExit ?? "")")
            #expect(status.transport == "HTTP+SSE")
            let echoed = await host.call("remote__echo", ["text": "over sse"])
            #expect(echoed.result.text == "over sse", "\(echoed.result.text)")
            let seen = Box<[Double]>([])
            let slept = await host.call("remote__sleep", ["seconds": 0.3]) { progress, _, _ in seen.update { $0.append(progress) } }
            #expect(slept.result.text == "slept")
            #expect(!seen.value.isEmpty)
            await host.stop()
        }
    }

    @Test(arguments: ["handshake", "stateless", "sse"])
    func progressReachesTheCallerAndCancellingReachesTheServer(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer(mode == "sse" ? "sse" : "streamable-http", arguments: ["--marker", dir], in: dir)
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, protocol: mode == "sse" ? nil : mode))
            let progressed = Box(false)
            let call = Task { await host.call("remote__sleep", ["seconds": 30]) { _, _, _ in progressed.update { $0 = true } } }
            #expect(await host.wait(seconds: 60) { progressed.value })
            call.cancel()
            let outcome = await call.value
            #expect(outcome.reason == "cancelled")
            #expect(await host.wait(seconds: 30) { FileManager.default.fileExists(atPath: dir + "/cancelled") })
            // The session is still good after a cancelled call.
            #expect(await host.call("remote__echo", ["text": "after"]).result.text == "after")
            await host.stop()
        }
    }

    @Test(arguments: ["handshake", "stateless", "sse"])
    func aServerSayingItsToolsChangedIsListedAgain(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer(mode == "sse" ? "sse" : "streamable-http", in: dir)
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, protocol: mode == "sse" ? nil : mode))
            #expect(!host.router.tools(for: worker).contains { $0.descriptor.name == "remote__added" })
            #expect(await host.call("remote__add_tool").result.text == "added")
            #expect(await host.wait(seconds: 30) { host.router.tools(for: worker).contains { $0.descriptor.name == "remote__added" } })
            #expect(await host.call("remote__added").result.text == "added works")
            await host.stop()
        }
    }

    @Test(arguments: ["handshake", "stateless", "sse"])
    func aRestartedServerIsReconnectedAndAGoneOneFailsFast(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer(mode == "sse" ? "sse" : "streamable-http", in: dir)
            // A reconnect follows the restart schedule: past max_restarts it is tried every failed_retry
            // (short here: starting Python again may take a while on a loaded machine).
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, protocol: mode == "sse" ? nil : mode), extra: "    failed_retry: 1s")
            #expect(await host.call("remote__echo", ["text": "before"]).result.text == "before")
            let firstPid = await host.call("remote__pid").result.text
            await server.kill()
            // Gone: a call fails with why (not at the call's 20 s timeout), and the bridge keeps trying.
            let failed = await host.call("remote__echo", ["text": "while gone"])
            #expect(failed.status == .failed)
            #expect(!failed.result.text.contains("did not finish"), "\(failed.result.text)")
            #expect(failed.result.text.contains("remote"), "\(failed.result.text)")
            #expect(await host.wait(seconds: 30) { host.status("remote")?.state != .ready })
            #expect(await host.wait(seconds: 30) { host.status("remote")?.lastExit?.contains("cannot be reached") == true },
                    "\(host.status("remote")?.lastExit ?? "")")
            try await server.restart(in: dir)
            #expect(await host.wait(seconds: 60) { host.status("remote")?.state == .ready }, "\(host.status("remote")?.lastExit ?? "")")
            #expect(await host.call("remote__echo", ["text": "after"]).result.text == "after")
            #expect(await host.call("remote__pid").result.text != firstPid)
            #expect((host.status("remote")?.restarts ?? 0) >= 1)
            await host.stop()
        }
    }

    @Test(arguments: ["handshake", "stateless"])
    func anotherAgentHubIsBridgedAsItsAgentWithItsKey(revision: String) async throws {
        try await withTemporaryDirectory { root in
            try FileManager.default.createDirectory(atPath: root + "/up", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/down", withIntermediateDirectories: true)
            let upstream = try await APIHost.start(root + "/up")
            var environment = ProcessInfo.processInfo.environment
            environment["UP_KEY"] = upstream.keys["writer"]
            let host = try await BridgeHost.start(root + "/down", servers: """
                      up:
                        url: http://127.0.0.1:\(upstream.port)/mcp
                        protocol: \(revision)
                        headers: { Authorization: "Bearer ${UP_KEY}" }
                        start_timeout: 60s
                """, environment: environment)
            #expect(host.status("up")?.state == .ready, "\(host.status("up")?.lastExit ?? "")")
            #expect(host.status("up")?.protocolVersion == (revision == "stateless" ? "2026-07-28" : "2025-11-25"))
            // The upstream's policy for its agent decides what it lists: write_file is denied there.
            let names = Set(host.router.tools(for: worker).map(\.descriptor.name))
            #expect(names.isSuperset(of: ["up__memory_write", "up__memory_search", "up__skills_search"]))
            #expect(!names.contains("up__write_file"))
            let wrote = await host.call("up__memory_write", ["text": "bridged from another host", "type": "core"])
            #expect(wrote.status == .succeeded, "\(wrote.result.text)")
            let found = await host.call("up__memory_search", ["query": "bridged"])
            #expect(found.result.text.contains("from another host"))
            await host.stop()
        }
    }

    @Test func aServerThatNeverAnswersFailsFast() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("hang", in: dir)
            let host = try await BridgeHost.start(dir, servers: """
                      remote:
                        url: http://127.0.0.1:\(server.port)/mcp
                        start_timeout: 1s
                """, settle: false)
            #expect(await host.wait(seconds: 30) { host.status("remote")?.lastExit?.contains("did not answer initialize") == true },
                    "\(host.status("remote")?.lastExit ?? "")")
            // Its calls are refused with why, not held until the call's own timeout.
            let outcome = await host.call("remote__echo", ["text": "x"])
            #expect(outcome.status != .succeeded)
            #expect(!outcome.result.text.contains("did not finish"), "\(outcome.result.text)")
            await host.stop()
        }
    }

    @Test func headersCarryASharedTokenThatNeverReachesTheStatus() async throws {
        try await withTemporaryDirectory { dir in
            let token = "remote-secret-\(UUID().uuidString)"
            let server = try await RemoteTestServer("streamable-http", arguments: ["--token", token], in: dir)
            var environment = ProcessInfo.processInfo.environment
            environment["REMOTE_TOKEN"] = token
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, extra: """
                        headers: { Authorization: "Bearer ${REMOTE_TOKEN}" }
                """), environment: environment)
            #expect(host.status("remote")?.state == .ready, "\(host.status("remote")?.lastExit ?? "")")
            #expect(await host.call("remote__echo", ["text": "authorized"]).result.text == "authorized")
            await host.stop()

            // A wrong token: refused with the status and what to check; the token itself is nowhere.
            environment["REMOTE_TOKEN"] = "wrong-\(token)"
            let refused = try await BridgeHost.start(dir, servers: Self.entry(server, extra: """
                        headers: { Authorization: "Bearer ${REMOTE_TOKEN}" }
                """), environment: environment, settle: false)
            #expect(await refused.wait(seconds: 30) { refused.status("remote")?.lastExit?.contains("HTTP 401") == true },
                    "\(refused.status("remote")?.lastExit ?? "")")
            let status = try #require(refused.status("remote"))
            #expect(status.lastExit?.contains("headers:") == true)
            let shown = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
            #expect(!shown.contains(token))
            await refused.stop()
        }
    }

    /// What loading a manifest with this one server entry reports, as `LINE:COL message`.
    static func problems(_ server: String, in dir: String) -> [String] {
        do {
            try write("""
                version: 1
                plugins:
                  mcp:
                    servers:
                \(server)
                """, to: "registry.yaml", in: dir)
            _ = try ManifestLoader.load(path: dir + "/registry.yaml", environment: [:])
            return []
        } catch let error as HostError {
            return error.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aRemoteEntryIsCheckedAtItsLine() async throws {
        try await withTemporaryDirectory { dir in
            #expect(Self.problems("""
                      both:
                        command: /bin/true
                        url: http://127.0.0.1:1/mcp
                """, in: dir).contains { $0.hasPrefix("7:") && $0.contains("both `command:` and `url:`") })
            #expect(Self.problems("""
                      neither:
                        risk: low
                """, in: dir).contains { $0.contains("needs `command:`") && $0.contains("or `url:`") })
            #expect(Self.problems("""
                      remote:
                        url: ftp://example.com/mcp
                """, in: dir).contains { $0.hasPrefix("6:") && $0.contains("http:// or https://") })
            #expect(Self.problems("""
                      remote:
                        url: http://127.0.0.1:1/mcp
                        args: [x]
                        sandbox: { network: none }
                """, in: dir).filter { $0.contains("is for a server started here") }.count == 2)
            #expect(Self.problems("""
                      local:
                        command: /bin/true
                        headers: { X-Token: t }
                """, in: dir).contains { $0.contains("is for a remote server") })
            #expect(Self.problems("""
                      remote:
                        url: http://127.0.0.1:1/mcp
                        headers: { Mcp-Session-Id: forged, "Bad Name": x }
                """, in: dir).count == 2)
            #expect(Self.problems("""
                      remote:
                        url: http://127.0.0.1:1/mcp
                        transport: websocket
                """, in: dir).contains { $0.contains("transport") })
            #expect(Self.problems("""
                      remote:
                        url: http://127.0.0.1:1/mcp
                        transport: sse
                        protocol: stateless
                """, in: dir).contains { $0.contains("predates the stateless revision") })
            #expect(Self.problems("""
                      remote:
                        url: https://mcp.example.com/mcp
                        headers: { Authorization: "Bearer t" }
                """, in: dir).isEmpty)
            // OAuth: `auth: oauth` only; its companions need it; a secret comes from a variable that is set.
            #expect(Self.problems("""
                      remote:
                        url: https://mcp.example.com/mcp
                        auth: basic
                """, in: dir).contains { $0.contains("auth must be oauth") })
            #expect(Self.problems("""
                      remote:
                        url: https://mcp.example.com/mcp
                        credentials: per_agent
                        oauth: { client_id: x }
                """, in: dir).filter { $0.contains("set its auth to oauth") }.count == 2)
            #expect(Self.problems("""
                      remote:
                        url: https://mcp.example.com/mcp
                        auth: oauth
                        oauth: { client_secret_env: NOT_SET_ANYWHERE_4711 }
                """, in: dir).filter { $0.contains("NOT_SET_ANYWHERE_4711 is not set") || $0.contains("needs a client_id") }.count == 2)
            #expect(Self.problems("""
                      local:
                        command: /bin/true
                        auth: oauth
                """, in: dir).contains { $0.contains("is for a remote server") })
            #expect(Self.problems("""
                      remote:
                        url: https://mcp.example.com/mcp
                        auth: oauth
                        credentials: per_agent
                        oauth: { client_id: agenthub, scopes: [read, write] }
                """, in: dir).isEmpty)
        }
    }
}

/// A remote server that answers badly: each bad answer fails its own call with why, and the server,
/// its session and the host carry on.
@Suite(.serialized) struct BridgeRemoteHostileTests {
    @Test func badAnswersFailTheirCallsAndNothingElse() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("hostile", in: dir)
            let host = try await BridgeHost.start(dir, servers: """
                      remote:
                        url: http://127.0.0.1:\(server.port)/mcp
                        start_timeout: 60s
                        timeout: 60s
                """)
            #expect(host.status("remote")?.state == .ready, "\(host.status("remote")?.lastExit ?? "")")
            // auto: server/discover is refused, so the handshake is spoken.
            #expect(host.status("remote")?.protocolVersion == "2025-11-25")
            let expectations: [(String, String)] = [
                ("huge", "limit"), ("garbage", "without a result"), ("wrongid", "without a result"),
                ("redirect", "a redirect, which agenthub does not follow"),
            ]
            for (tool, says) in expectations {
                let outcome = await host.call("remote__\(tool)")
                #expect(outcome.status != .succeeded, "\(tool)")
                #expect(outcome.result.text.lowercased().contains(says), "\(tool): \(outcome.result.text)")
                let after = await host.call("remote__echo", ["text": "still here"])
                #expect(after.result.text == "still here", "after \(tool): \(after.result.text)")
            }
            // An event that never ends holds its call until the caller gives up (here: cancels it); memory stays bounded.
            let endless = Task { await host.call("remote__endless") }
            try await Task.sleep(for: .milliseconds(500))
            endless.cancel()
            let ended = await endless.value
            #expect(ended.reason == "cancelled", "\(ended.reason ?? "nil"): \(ended.result.text)")
            let after = await host.call("remote__echo", ["text": "still here"])
            #expect(after.result.text == "still here", "after endless: \(after.result.text)")
            #expect(host.status("remote")?.state == .ready, "\(host.status("remote")?.lastExit ?? "")")
            #expect(host.status("remote")?.restarts == 0, "\(host.status("remote")?.lastExit ?? "")")
            await host.stop()
        }
    }
}
