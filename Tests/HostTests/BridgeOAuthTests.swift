import Base
import Foundation
import Plugins
import Registry
import TestSupport
import Testing
@testable import Host

/// Remote servers behind OAuth: `agenthub servers login` runs the flow against the Python SDK's own
/// authorization server (the test is the browser), and each call reaches the server as its agent's
/// user; expired tokens are refreshed, dead logins name the login command, and no token is stored,
/// traced or shown in clear.
@Suite(.serialized) struct BridgeOAuthTests {
    static func manifest(_ server: RemoteTestServer, credentials: String) -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        plugins:
          mcp:
            servers:
              remote:
                url: http://127.0.0.1:\(server.port)/mcp
                auth: oauth
                credentials: \(credentials)
        """
    }

    static func entry(_ server: RemoteTestServer, credentials: String) -> String {
        """
                  remote:
                    url: http://127.0.0.1:\(server.port)/mcp
                    auth: oauth
                    credentials: \(credentials)
                    start_timeout: 60s
            """
    }

    /// A GET of an absolute URL on 127.0.0.1, redirects not followed.
    static func get(_ url: String) async -> HTTPAnswer? {
        guard let parts = URLComponents(string: url), let port = parts.port else { return nil }
        let target = parts.percentEncodedPath + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        return await http(port, "GET", target)
    }

    /// `agenthub servers login remote [--agent A]`, with the test as the browser logging in as `user`.
    static func login(_ dir: String, agent: String?, as user: String) async throws {
        var arguments = ["servers", "login", "remote"]
        if let agent { arguments += ["--agent", agent] }
        var environment = ProcessInfo.processInfo.environment
        environment["AGENTHUB_BINARY"] = agenthubBinary()
        let process = try RunningProcess(agenthubBinary(), arguments, in: dir, environment: environment)
        let address = try #require(await process.nextLine(timeout: 90), "login printed no address: \(process.stderr)")
        #expect(address.contains("code_challenge_method=S256") && address.contains("resource="), "\(address)")
        // The authorization endpoint sends the browser to the server's login page, which comes back to the CLI.
        let authorize = try #require(await get(address))
        let page = try #require(authorize.headers["location"], "authorize answered \(authorize.status): \(authorize.body)")
        let approved = try #require(await get(page + "&user=\(user)"))
        let callback = try #require(approved.headers["location"], "login answered \(approved.status): \(approved.body)")
        let back = try #require(await get(callback))
        #expect(back.status == 200)
        #expect(await process.waitExit(timeout: 60))
        #expect(process.process.terminationStatus == 0, "\(process.stderr)")
    }

    static func call(_ host: BridgeHost, as agent: String) async -> ToolCallOutcome {
        await host.router.call("remote__whoami", arguments: [:], caller: ToolCaller(agent: agent, role: "worker"), session: "oauth-test")
    }

    @Test func twoAgentsReachTheServerAsTheirOwnUsersAndDeadLoginsNameTheLoginCommand() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("oauth", in: dir)
            try write(Self.manifest(server, credentials: "per_agent"), to: "registry.yaml", in: dir)
            try await Self.login(dir, agent: "ada", as: "alice")
            try await Self.login(dir, agent: "bob", as: "bob")
            let listed = try await run(agenthubBinary(), ["servers"], in: dir)
            #expect(listed.stdout.contains("remote: logged in: ada, bob"), "\(listed.stdout)")
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, credentials: "per_agent"))
            #expect(host.status("remote")?.state == .ready, "\(host.status("remote")?.lastExit ?? "")")
            #expect(await Self.call(host, as: "ada").result.text == "alice")
            #expect(await Self.call(host, as: "bob").result.text == "bob")
            #expect(await Self.call(host, as: "ada").result.text == "alice")

            // An agent that never logged in is told how.
            let stranger = await Self.call(host, as: "carol")
            #expect(stranger.status == .failed)
            #expect(stranger.result.text.contains("agenthub servers login remote --agent carol"), "\(stranger.result.text)")

            // An expired access token is refreshed on the way.
            _ = await http(server.port, "POST", "/admin/expire?user=alice", body: "")
            let refreshed = await Self.call(host, as: "ada")
            #expect(refreshed.result.text == "alice", "\(refreshed.result.text)")

            // One that cannot be refreshed fails with the login command.
            _ = await http(server.port, "POST", "/admin/expire?user=bob", body: "")
            _ = await http(server.port, "POST", "/admin/forget-refresh?user=bob", body: "")
            let dead = await Self.call(host, as: "bob")
            #expect(dead.status == .failed)
            #expect(dead.result.text.contains("could not be renewed") && dead.result.text.contains("agenthub servers login remote --agent bob"),
                    "\(dead.result.text)")

            // No token in clear: not in the database (its journal included), not in a trace.
            await host.router.recorder.flush()
            let seen = jsonObject(await http(server.port, "GET", "/admin/seen")?.body)
            let tokens = Set(((seen["tokens"] as? [String]) ?? []) + ((seen["issued"] as? [String]) ?? []))
            #expect(tokens.count >= 4)
            var stored = Data()
            for suffix in ["", "-wal"] { stored += (try? Data(contentsOf: URL(fileURLWithPath: dir + "/registry.db" + suffix))) ?? Data() }
            let storedText = String(decoding: stored, as: UTF8.self)
            let traced = try host.registry.traceEvents(TraceQuery(session: "oauth-test")).map { "\($0)" }.joined(separator: "\n")
            #expect(!traced.isEmpty)
            for token in tokens {
                #expect(!storedText.contains(token), "a token is stored in clear")
                #expect(!traced.contains(token), "a token is traced")
            }
            let key = dir + "/" + HostSecret.fileName
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // Logging out revokes it: the next call is told to log in again.
            var environment = ProcessInfo.processInfo.environment
            environment["AGENTHUB_BINARY"] = agenthubBinary()
            let out = try await run(agenthubBinary(), ["servers", "logout", "remote", "--agent", "ada"], in: dir, environment: environment)
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stderr.contains("its tokens were revoked"), "\(out.stderr)")
            let gone = await Self.call(host, as: "ada")
            #expect(gone.status == .failed)
            #expect(gone.result.text.contains("agenthub servers login remote --agent ada"), "\(gone.result.text)")
            await host.stop()
        }
    }

    @Test func aSharedLoginServesEveryAgent() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("oauth", in: dir)
            try write(Self.manifest(server, credentials: "shared"), to: "registry.yaml", in: dir)
            // Before any login the server cannot start, and says how to fix that.
            let early = try await BridgeHost.start(dir, servers: Self.entry(server, credentials: "shared"), settle: false)
            #expect(await early.wait(seconds: 30) { early.status("remote")?.lastExit?.contains("agenthub servers login remote") == true },
                    "\(early.status("remote")?.lastExit ?? "")")
            await early.stop()
            try write(Self.manifest(server, credentials: "shared"), to: "registry.yaml", in: dir)
            try await Self.login(dir, agent: nil, as: "carol")
            let host = try await BridgeHost.start(dir, servers: Self.entry(server, credentials: "shared"))
            #expect(await Self.call(host, as: "ada").result.text == "carol")
            #expect(await Self.call(host, as: "bob").result.text == "carol")
            await host.stop()

            // Another host with another secret key cannot open the login, and says so.
            var environment = ProcessInfo.processInfo.environment
            environment[HostSecret.environmentVariable] = String(repeating: "k", count: 40)
            let other = try await BridgeHost.start(dir, servers: Self.entry(server, credentials: "shared"), environment: environment, settle: false)
            #expect(await other.wait(seconds: 30) { other.status("remote")?.lastExit?.contains("secret key") == true },
                    "\(other.status("remote")?.lastExit ?? "")")
            await other.stop()
        }
    }

    @Test func theSecretKeyComesFromTheVariableTheManifestNamesOrAFileOfItsOwn() async throws {
        try await withTemporaryDirectory { dir in
            try write("version: 1\nhost: { database: data/registry.db, secret_key_env: MY_SEAL }\n", to: "registry.yaml", in: dir)
            let manifest = try ManifestLoader.load(path: dir + "/registry.yaml", environment: [:])
            #expect(throws: HostError.self) { try HostSecret.load(manifest, environment: ["MY_SEAL": "short"]) }
            let secret = String(repeating: "q", count: 32)
            #expect(try HostSecret.load(manifest, environment: ["MY_SEAL": secret]) == Data(secret.utf8))
            // Unset: a file of its own beside the database, 0600, the same on every read.
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            let made = try HostSecret.load(manifest, environment: [:])
            #expect(try HostSecret.load(manifest, environment: [:]) == made)
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/data/" + HostSecret.fileName)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            try write("version: 1\nhost: { secret_key_env: \"not a name\" }\n", to: "registry.yaml", in: dir)
            #expect(throws: HostError.self) { try ManifestLoader.load(path: dir + "/registry.yaml", environment: [:]) }
        }
    }

    @Test func loginRefusesWhatItCannotDo() async throws {
        try await withTemporaryDirectory { dir in
            try write("""
                version: 1
                host: { database: registry.db, cache: cache }
                plugins:
                  mcp:
                    servers:
                      each: { url: "http://127.0.0.1:1/mcp", auth: oauth, credentials: per_agent }
                      one: { url: "http://127.0.0.1:1/mcp", auth: oauth }
                      plain: { url: "http://127.0.0.1:1/mcp" }
                """, to: "registry.yaml", in: dir)
            let perAgent = try await run(agenthubBinary(), ["servers", "login", "each"], in: dir)
            #expect(perAgent.status == 64 && perAgent.stderr.contains("--agent"), "\(perAgent.stderr)")
            let shared = try await run(agenthubBinary(), ["servers", "login", "one", "--agent", "ada"], in: dir)
            #expect(shared.status == 64 && shared.stderr.contains("leave out --agent"), "\(shared.stderr)")
            let plain = try await run(agenthubBinary(), ["servers", "login", "plain"], in: dir)
            #expect(plain.status == 64 && plain.stderr.contains("auth: oauth"), "\(plain.stderr)")
            let unreachable = try await run(agenthubBinary(), ["servers", "login", "one"], in: dir)
            #expect(unreachable.status == 1 && unreachable.stderr.contains("protected resource metadata"), "\(unreachable.stderr)")
        }
    }
}

/// The console's login: a signed-in agent logs itself in to a per-agent OAuth server from the
/// tools page, the browser comes back to the console's callback, and the agent's calls carry it.
@Suite(.serialized) struct ConsoleOAuthLoginTests {
    @Test func anAgentLogsItselfInFromTheConsoleAndItsCallsCarryTheLogin() async throws {
        try await withTemporaryDirectory { dir in
            let server = try await RemoteTestServer("oauth", in: dir)
            let manifest = APIHost.manifest(http: """
                  mcp:
                    servers:
                      remote: { url: "http://127.0.0.1:\(server.port)/mcp", auth: oauth, credentials: per_agent, start_timeout: 60s }
                """).replacingOccurrences(of: "- allow: [skills_search", with: "- allow: [remote__whoami, skills_search")
            let api = try await APIHost.start(dir, manifest: manifest)
            // Before any login the server cannot list its tools; the console still offers the login.
            var browser = ConsoleClient(port: api.port)
            _ = await browser.signIn(api.keys["writer"]!)
            let before = await browser.get("/tools")
            #expect(before.body.contains("id=\"login-remote\"") && before.body.contains("not logged in"), "\(before.body)")

            let started = await browser.post("/servers/remote/login")
            #expect(started.status == 303)
            let address = try #require(started.headers["location"])
            #expect(address.hasPrefix("http://127.0.0.1:\(server.port)/authorize?"), "\(address)")
            #expect(address.contains(ConsoleClient.encode("http://127.0.0.1:\(api.port)/servers/remote/callback")))
            let authorize = try #require(await BridgeOAuthTests.get(address))
            let page = try #require(authorize.headers["location"])
            let approved = try #require(await BridgeOAuthTests.get(page + "&user=wendy"))
            let callback = try #require(approved.headers["location"])
            // The return from the authorization server carries no console cookie: the state stands for the session.
            let back = try #require(await BridgeOAuthTests.get(callback))
            #expect(back.status == 200 && back.body.contains("Logged in to remote as agent writer"), "\(back.body)")
            // The same callback again is refused: a state is used once.
            let replay = try #require(await BridgeOAuthTests.get(callback))
            #expect(replay.status == 400)

            let after = await browser.get("/tools")
            #expect(after.body.contains("<strong>logged in</strong>"), "\(after.body)")
            // The bridge lists the tools with the first login (it retries on its schedule), then the call is wendy's.
            var answer = HTTPAnswer(status: 0, headers: [:], body: "")
            for _ in 0..<300 {
                answer = await api.call("POST", "/v1/tools/remote__whoami/call", as: "writer", body: #"{"arguments":{}}"#)
                if answer.body.contains("wendy") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(answer.body.contains("wendy"), "\(answer.status) \(answer.body)")
            // A reader may not log in for the shared... there is none; it logs in for itself only, and out again.
            let out = await browser.post("/servers/remote/logout")
            #expect(out.status == 303)
            let gone = await browser.get("/tools")
            #expect(gone.body.contains("not logged in"))
            // No token in the host's log (it logs at info: the logins, the calls, the bridge).
            let seen = jsonObject(await http(server.port, "GET", "/admin/seen")?.body)
            let tokens = Set(((seen["tokens"] as? [String]) ?? []) + ((seen["issued"] as? [String]) ?? []))
            #expect(!tokens.isEmpty)
            let log = api.host.stderr
            #expect(log.contains("console login stored"))
            for token in tokens { #expect(!log.contains(token), "a token is in the host's log") }
        }
    }
}
