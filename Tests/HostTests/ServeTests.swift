import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// `agenthub serve`, the real binary: HTTP health, readiness and metrics, live reload, shutdown.
@Suite(.serialized) struct ServeTests {
    static func manifest(sources: String = "  - { name: local, path: ./skills }", extra: String = "") -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        sources:
        \(sources)
        policy:
          default: deny
          rules:
            - allow: [skills_*]
        roles:
          worker: {}
        plugins:
          skills: {}
        \(extra)
        """
    }

    static func prepare(_ dir: String, manifest: String = manifest()) throws {
        try write("---\nname: alpha\ndescription: The first skill.\n---\nDo it.\n", to: "skills/alpha/SKILL.md", in: dir)
        try write(manifest, to: "registry.yaml", in: dir)
    }

    /// Polls `path` until `accept` holds (at most 60 s); the last answer either way.
    func poll(_ port: Int, _ path: String, until accept: ((status: Int, body: String)) -> Bool) async -> (status: Int, body: String)? {
        var last: (status: Int, body: String)?
        for _ in 0..<600 {
            last = await httpGet(port, path)
            if let last, accept(last) { return last }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    @Test func serveAnswersHealthReadyAndMetrics() async throws {
        try await withTemporaryDirectory { dir in
            try Self.prepare(dir)
            let (host, port) = try await startServe(dir)
            let health = await httpGet(port, "/health")
            #expect(health?.status == 200)
            #expect(jsonObject(health?.body)["status"] as? String == "ok")
            let ready = await poll(port, "/ready") { $0.status == 200 }
            #expect(ready?.status == 200, "\(ready?.body ?? "no answer")")
            #expect(jsonObject(ready?.body)["ready"] as? Bool == true)
            let metrics = await httpGet(port, "/metrics")
            #expect(metrics?.status == 200)
            #expect(metrics?.body.contains(#"agenthub_sync_runs_total{source="local",outcome="published"} 1"#) == true, "\(metrics?.body ?? "")")
            #expect(metrics?.body.contains("agenthub_sync_run_duration_seconds_bucket") == true)

            // A source that cannot sync makes the host unready, and says which one.
            try write(Self.manifest(sources: "  - { name: local, path: ./skills }\n  - { name: missing, git: \"http://127.0.0.1:9/none.git\" }"),
                      to: "registry.yaml", in: dir)
            let unready = await poll(port, "/ready") { $0.status == 503 }
            #expect(unready?.status == 503)
            let reasons = jsonObject(unready?.body)["reasons"] as? [String] ?? []
            #expect(reasons.contains { $0.contains("source missing has never synced") }, "\(reasons)")
            let after = await httpGet(port, "/metrics")
            #expect(after?.body.contains(#"agenthub_reloads_total{result="applied"} 1"#) == true, "\(after?.body ?? "")")
            host.signal(SIGTERM)
            #expect(await host.waitExit())
        }
    }

    @Test func serveStartedOnABrokenManifestIsUnreadyUntilTheFixLoads() async throws {
        try await withTemporaryDirectory { dir in
            try Self.prepare(dir, manifest: Self.manifest() + "\nbogus: 1\n")
            let (host, port) = try await startServe(dir)
            #expect(host.stderr.contains("registry.yaml:14:1: unknown key 'bogus'"), "\(host.stderr)")
            let unready = await httpGet(port, "/ready")
            #expect(unready?.status == 503)
            let reasons = jsonObject(unready?.body)["reasons"] as? [String] ?? []
            #expect(reasons.first?.contains("the manifest has not loaded") == true && reasons.first?.contains("registry.yaml:14:1") == true, "\(reasons)")
            try Self.prepare(dir)
            let ready = await poll(port, "/ready") { $0.status == 200 }
            #expect(ready?.status == 200, "\(ready?.body ?? "")")
            // The fix was applied once (a later look at the same file, by the watcher's stat poll, may
            // report `unchanged` as the last reload: that is not a second load).
            let reload = jsonObject(ready?.body)["last_reload"] as? [String: Any]
            #expect(["applied", "unchanged"].contains(reload?["result"] as? String ?? ""), "\(reload ?? [:])")
            if reload?["result"] as? String == "applied" {
                let message = reload?["message"] as? String ?? ""
                #expect(message.hasPrefix("revision none → ") && !message.contains("takes effect"), "\(message)")
            }
            let metrics = await httpGet(port, "/metrics")
            #expect(metrics?.body.contains(#"agenthub_reloads_total{result="applied"} 1"#) == true, "\(metrics?.body ?? "")")
            #expect(jsonObject(await httpGet(port, "/health")?.body)["revision"] as? String != "none")
            host.signal(SIGTERM)
            #expect(await host.waitExit())
        }
    }

    @Test func aPortInUseIsAnErrorThatNamesTheAddress() async throws {
        try await withTemporaryDirectory { dir in
            try Self.prepare(dir)
            let (first, port) = try await startServe(dir, ["--no-sync"])
            let second = try await run(agenthubBinary(), ["serve", "--no-sync", "--http", "127.0.0.1:\(port)"], in: dir)
            #expect(second.status == 1)
            #expect(second.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(second.stderr)")
            #expect(!second.stderr.contains("trace events not written"), "\(second.stderr)")
            first.signal(SIGTERM)
            #expect(await first.waitExit())
        }
    }

    @Test func aCrashLoopingBridgedServerMakesTheHostUnready() async throws {
        try await withTemporaryDirectory { dir in
            let python = testPython() ?? "python3"
            try Self.prepare(dir, manifest: Self.manifest(extra: """
                  mcp:
                    restart_delay: 10ms
                    max_restart_delay: 20ms
                    max_restarts: 2
                    servers:
                      bad: { command: \(python), args: [\(bridgeTestServer), crash-at-start] }
                """))
            let (host, port) = try await startServe(dir)
            let unready = await poll(port, "/ready") { ($0.body.contains("bridged server bad")) }
            #expect(unready?.status == 503)
            #expect(unready?.body.contains("bridged server bad") == true, "\(unready?.body ?? "")")
            let metrics = await httpGet(port, "/metrics")
            #expect(metrics?.body.contains(#"agenthub_bridge_restarts_total{server="bad"}"#) == true)
            host.signal(SIGTERM)
            #expect(await host.waitExit())
        }
    }

    @Test func sigtermStopsServeWithItsServersAndItsRecord() async throws {
        try await withTemporaryDirectory { dir in
            let python = testPython() ?? "python3"
            try Self.prepare(dir, manifest: Self.manifest(extra: """
                  mcp:
                    servers:
                      t: { command: \(python), args: [\(bridgeTestServer)], start_timeout: 90s }
                """))
            let (host, port) = try await startServe(dir)
            _ = await poll(port, "/ready") { $0.status == 200 }
            let status = try await run(agenthubBinary(), ["status", "--json"], in: dir)
            let hosts = jsonObject(status.stdout)["hosts"] as? [[String: Any]] ?? []
            #expect(hosts.count == 1 && hosts.first?["kind"] as? String == "serve", "\(status.stdout)")
            let children = BridgeLifetimeTests.children(of: host.pid)
            #expect(!children.isEmpty)
            host.signal(SIGTERM)
            // Its grace period is 10 s; it needs far less.
            #expect(await host.waitExit(timeout: 20))
            #expect(host.process.terminationStatus == 0, "\(host.stderr)")
            for child in children { #expect(await BridgeLifetimeTests().waitGone(child), "child \(child) outlived serve") }
            let after = try await run(agenthubBinary(), ["status", "--json"], in: dir)
            #expect((jsonObject(after.stdout)["hosts"] as? [[String: Any]])?.isEmpty == true, "\(after.stdout)")

            // Started again, it picks up the schedule where the last one left it: local synced moments
            // ago and is not due for its interval (15 minutes), so it is not synced again at start.
            let (again, port2) = try await startServe(dir)
            let ready = await poll(port2, "/ready") { $0.status == 200 }
            #expect(ready?.status == 200)
            try await Task.sleep(for: .milliseconds(500))
            let metrics = await httpGet(port2, "/metrics")
            #expect(metrics?.body.contains("agenthub_sync_runs_total{source=\"local\"") == false, "\(metrics?.body ?? "")")
            again.signal(SIGTERM)
            #expect(await again.waitExit())
        }
    }

    @Test func anIntervalSyncPublishesANewCommitWithoutAnyCommand() async throws {
        try await withTemporaryDirectory { dir in
            let repo = try GitRemoteFixture(root: dir + "/repo")
            try repo.skill("alpha")
            try repo.commitAndPush()
            try Self.prepare(dir, manifest: Self.manifest(sources: "  - { name: team, git: \(repo.remote), interval: 1s }"))
            let (host, port) = try await startServe(dir)
            _ = await poll(port, "/ready") { $0.status == 200 }
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            #expect(try registry.servableSkills().map(\.name) == ["alpha"])
            try repo.skill("beta")
            try repo.commitAndPush("add beta")
            var names: [String] = []
            for _ in 0..<600 {
                names = (try? registry.servableSkills().map(\.name)) ?? []
                if names.contains("beta") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(names.sorted() == ["alpha", "beta"], "\(host.stderr)")
            host.signal(SIGTERM)
            #expect(await host.waitExit())
        }
    }
}
