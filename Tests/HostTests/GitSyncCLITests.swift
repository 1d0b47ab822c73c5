import Foundation
import Testing
import TestSupport

/// `agenthub sync` and `agenthub sources` with git sources, run as a user would.
@Suite struct GitSyncCLITests {
    struct Status: Decodable {
        var name: String
        var status: String
        var failureKind: String?
        var revision: String?
        var commit: String?
        var skills: Int
        var strict: Int
        var shadowed: Int
        var tombstoned: Int
        var consecutiveFailures: Int
        var lastAttemptAt: String?
        var lastSuccessAt: String?
        var nextAttemptAt: String?
    }

    @Test func syncWaitsForEverySourceExitsOneOnAFailureAndSourcesShowsWhy() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            try repo.skill("beta")
            let commit = try repo.commitAndPush()
            try write("""
                version: 1
                host: { database: state/registry.db, cache: state/cache }
                sources:
                  - name: team
                    git: \(repo.remote)
                  - name: gone
                    git: \(repo.remote)
                    ref: { branch: nope }
                  - name: pinned
                    git: https://user:hunter2secret@127.0.0.1:9/x.git
                    token_env: UNSET_VARIABLE_FOR_TEST
                """, to: "registry.yaml", in: root)
            let sync = try await run(agenthubBinary(), ["sync", "--json"], in: root)
            #expect(sync.status == 1)
            #expect(!sync.stdout.contains("hunter2secret") && !sync.stderr.contains("hunter2secret"))

            let again = try await run(agenthubBinary(), ["sync", "--source", "team"], in: root)
            #expect(again.status == 0)
            #expect(again.stdout.contains("unchanged"))

            let listed = try await run(agenthubBinary(), ["sources", "--json"], in: root)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let sources = try decoder.decode([Status].self, from: Data(listed.stdout.utf8))
            let team = try #require(sources.first { $0.name == "team" })
            #expect(team.status == "ready")
            #expect(team.revision == "main@\(commit)")
            #expect(team.skills == 2 && team.strict == 2)
            let gone = try #require(sources.first { $0.name == "gone" })
            #expect(gone.status == "failed")
            #expect(gone.failureKind == "not found")
            #expect(gone.consecutiveFailures == 1)
            #expect(gone.nextAttemptAt != nil)
            let pinned = try #require(sources.first { $0.name == "pinned" })
            #expect(pinned.status == "stalled")
            #expect(pinned.failureKind == "config")
            #expect(!listed.stdout.contains("hunter2secret"))

            let table = try await run(agenthubBinary(), ["sources"], in: root)
            #expect(table.stdout.contains("failed (not found)"))
            #expect(table.stdout.contains("https://***@127.0.0.1:9/x.git") || !table.stdout.contains("hunter2secret"))
        }
    }
}

/// A source whose remote vanishes and comes back: every command still works while it is gone, and
/// the source recovers by itself and on request, in a one-shot command and in a running host.
@Suite(.serialized) struct VanishingRemoteTests {
    func manifest(_ remote: String, interval: String = "1h") -> String {
        """
        version: 1
        host: { database: state/registry.db, cache: state/cache }
        sync: { backoff: 1s }
        sources:
          - name: team
            git: \(remote)
            interval: \(interval)
        policy: { default: deny, rules: [{ allow: [skills_search] }] }
        roles:
          reader: {}
        plugins:
          skills: {}
        agents:
          ops: { role: reader, admin: true }
        """
    }

    @Test func aPlainPathRemoteThatDisappearsFailsItsSourceAndNothingElse() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            _ = try repo.commitAndPush()
            try write(manifest(repo.remote), to: "registry.yaml", in: root)
            #expect(try await run(agenthubBinary(), ["sync"], in: root).status == 0)
            try FileManager.default.moveItem(atPath: repo.remote, toPath: repo.remote + ".away")
            for command in [["check"], ["sources"], ["skills", "list"], ["tools", "call", "skills_search", "--role", "reader", "--args", #"{"query": "alpha"}"#]] {
                let result = try await run(agenthubBinary(), command, in: root)
                #expect(result.status == 0, "\(command): \(result.stderr)")
            }
            let failed = try await run(agenthubBinary(), ["sync", "--source", "team"], in: root)
            #expect(failed.status == 1 && failed.stderr.contains("does not exist"), "\(failed.stderr)")
            let listed = try await run(agenthubBinary(), ["skills", "list"], in: root)
            #expect(listed.stdout.contains("alpha"), "the last good revision is kept: \(listed.stdout)")
            try FileManager.default.moveItem(atPath: repo.remote + ".away", toPath: repo.remote)
            let back = try await run(agenthubBinary(), ["sync", "--source", "team"], in: root)
            #expect(back.status == 0, "\(back.stderr)")
        }
    }

    @Test func aRunningHostsSourceComesBackOnRequestAndByItself() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            _ = try repo.commitAndPush()
            try write(manifest(repo.remote), to: "registry.yaml", in: root)
            let made = try await run(agenthubBinary(), ["keys", "create", "--agent", "ops"], in: root)
            let key = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            var env = ProcessInfo.processInfo.environment
            env["AGENTHUB_BINARY"] = agenthubBinary()
            let host = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"], in: root, environment: env)
            guard let text = await host.waitForStderr("listening on http://127.0.0.1:"),
                  let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let port = Int(text[range].split(separator: ":").last ?? "") else { throw HTTPTestError("serve did not start: \(host.stderr)") }
            let auth = ["Authorization": "Bearer \(key)"]
            func status() async -> [String: Any] {
                let sources = jsonObject(await http(port, "GET", "/v1/sources", headers: auth)?.body ?? "")["sources"] as? [[String: Any]]
                return sources?.first { $0["name"] as? String == "team" } ?? [:]
            }
            for _ in 0..<300 where await status()["status"] as? String != "ready" { try await Task.sleep(for: .milliseconds(100)) }
            #expect(await status()["status"] as? String == "ready")

            // Gone: a sync on request fails and says why; the source is retried with backoff.
            try FileManager.default.moveItem(atPath: repo.remote, toPath: repo.remote + ".away")
            let asked = await http(port, "POST", "/v1/sources/team/sync", headers: auth, body: "{}")
            #expect(asked?.status == 202 || asked?.status == 200, "\(asked?.body ?? "")")
            for _ in 0..<300 where await status()["status"] as? String != "failed" { try await Task.sleep(for: .milliseconds(50)) }
            let failed = await status()
            #expect(failed["status"] as? String == "failed" && "\(failed)".contains("does not exist"), "\(failed)")

            // Back: the scheduler's own retry brings it back, with no request and no reload.
            try FileManager.default.moveItem(atPath: repo.remote + ".away", toPath: repo.remote)
            for _ in 0..<300 where await status()["status"] as? String != "ready" { try await Task.sleep(for: .milliseconds(100)) }
            let recovered = await status()
            #expect(recovered["status"] as? String == "ready", "\(recovered)")
            if let next = recovered["next_attempt_at"] as? String, let date = ISO8601DateFormatter().date(from: next) {
                #expect(date > Date(), "the next attempt is ahead, on the interval: \(recovered)")
            }
            host.signal(SIGTERM)
            _ = await host.waitExit()
        }
    }
}
