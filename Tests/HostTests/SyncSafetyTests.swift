import Core
import Foundation
import GRDB
import Registry
import Testing
@testable import Host

/// Syncs that cannot see the whole source, syncs that were killed, and readers during a write.
@Suite struct SyncSafetyTests {
    func manifest(maxDirs: Int) -> String {
        """
        version: 1
        sources:
          - { name: local, path: ./skills, max_dirs: \(maxDirs) }
        """
    }

    func skill(_ name: String) -> String { "---\nname: \(name)\ndescription: Skill \(name).\n---\nBody.\n" }

    @Test func aDiscoveryThatHitsItsBoundPublishesNothingAndKeepsTheLastGoodListing() throws {
        try withTemporaryDirectory { dir in
            for i in 0..<6 { try write(skill("s\(i)"), to: "skills/g\(i)/s\(i)/SKILL.md", in: dir) }
            try write(manifest(maxDirs: 100), to: "registry.yaml", in: dir)
            let first = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            #expect(try first.syncer.sync().first?.outcome == .published)
            #expect(try first.db.skills(inSource: "local").count == 6)

            // The source grows past the bound: the re-sync removes nothing and says so.
            for i in 6..<12 { try write(skill("s\(i)"), to: "skills/g\(i)/s\(i)/SKILL.md", in: dir) }
            try write(manifest(maxDirs: 8), to: "registry.yaml", in: dir)
            let bounded = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            let result = try #require(try bounded.syncer.sync().first)
            #expect(result.outcome == .failed && result.failureKind == .truncated && result.isFailure)
            #expect(try bounded.db.skills(inSource: "local").count == 6)
            let status = SourceReport(try #require(try bounded.db.source(named: "local")))
            #expect(status.status == .failed && status.failureKind == "truncated")

            let cli = try run(agenthubBinary(), ["sync"], in: dir)
            #expect(cli.status == 1)
        }
    }

    @Test func aSyncWhoseProcessDiedShowsAsInterruptedNotSyncingForever() throws {
        try withTemporaryDirectory { dir in
            try write(skill("a"), to: "skills/a/SKILL.md", in: dir)
            try write(manifest(maxDirs: 100), to: "registry.yaml", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            _ = try context.syncer.sync()
            // A process on this machine that no longer exists marked it syncing, then died.
            let dead = "\(ProcessInfo.processInfo.hostName):\(Int32.max - 7):dead"
            try context.db.markSyncing("local", owner: dead)
            let status = SourceReport(try #require(try context.db.source(named: "local")))
            #expect(status.status == .failed && status.failureKind == "interrupted")
            let live = "\(ProcessInfo.processInfo.hostName):\(getpid()):live"
            try context.db.markSyncing("local", owner: live)
            #expect(try context.db.source(named: "local").map { SourceReport($0).status } == .syncing)
            let shown = try run(agenthubBinary(), ["sources", "--json"], in: dir)
            #expect(shown.stdout.contains("syncing"))
        }
    }

    @Test func readOnlyCommandsAnswerWhileAnotherProcessHoldsTheWriteLock() async throws {
        try await withTemporaryDirectory { dir in
            try write(skill("incident-timeline"), to: "skills/incident-timeline/SKILL.md", in: dir)
            try write(manifest(maxDirs: 100), to: "registry.yaml", in: dir)
            #expect(try await run(agenthubBinary(), ["sync"], in: dir).status == 0)
            let pool = try DatabasePool(path: dir + "/.agenthub/registry.db")
            let released = DispatchSemaphore(value: 0)
            let holding = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? pool.write { db in
                    try db.execute(sql: "UPDATE sources SET position = position")
                    holding.signal()
                    _ = released.wait(timeout: .now() + 30)
                }
            }
            holding.wait()
            defer { released.signal() }
            for arguments in [["skills", "search", "incident"], ["skills", "list"], ["sources"], ["export"], ["tools", "list"]] {
                let result = try await run(agenthubBinary(), arguments, in: dir)
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
            }
        }
    }

    @Test func urlCredentialsInEveryFormStayOutOfSyncOutputStatusAndTheDatabase() throws {
        try withTemporaryDirectory { dir in
            try write("""
                version: 1
                sources:
                  - { name: a, git: "https://user:s3cretA@127.0.0.1:1/x.git?access_token=s3cretB" }
                  - { name: b, git: "user:s3cretC@127.0.0.1:repo.git" }
                  - { name: c, git: "https://127.0.0.1:1/y.git?private_token=s3cretD&ref=main" }
                """, to: "registry.yaml", in: dir)
            let sync = try run(agenthubBinary(), ["sync"], in: dir)
            #expect(sync.status == 1)
            let sources = try run(agenthubBinary(), ["sources", "--json"], in: dir)
            let table = try run(agenthubBinary(), ["sources"], in: dir)
            let database = try run("/usr/bin/sqlite3", [dir + "/.agenthub/registry.db", "SELECT location, status_reason FROM sources; SELECT message FROM sync_runs;"])
            for (what, text) in [("sync", sync.stdout + sync.stderr), ("sources --json", sources.stdout), ("sources", table.stdout),
                                 ("database", database.stdout)] {
                #expect(!text.contains("s3cret"), "\(what): \(text)")
            }
            #expect(database.stdout.contains("***@127.0.0.1"))
        }
    }

    @Test func theRegistryIsCreatedPrivate() throws {
        try withTemporaryDirectory { dir in
            _ = try RegistryDatabase(path: dir + "/state/registry.db")
            let file = try FileManager.default.attributesOfItem(atPath: dir + "/state/registry.db")[.posixPermissions] as? Int
            let folder = try FileManager.default.attributesOfItem(atPath: dir + "/state")[.posixPermissions] as? Int
            #expect(file == 0o600 && folder == 0o700)
            for bad in ["", ".", "./", dir + "/"] {
                #expect(throws: RegistryError.self, "\(bad)") { try RegistryDatabase(path: bad) }
            }
        }
    }
}
