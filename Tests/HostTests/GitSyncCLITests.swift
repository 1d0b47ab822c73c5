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
        var loadable: Int
        var strictValid: Int
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
            #expect(team.loadable == 2 && team.strictValid == 2)
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
