import Base
import Core
import Foundation
import GitSync
import Host
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The source syncer writing to PostgreSQL: a git source synced by two hosts racing for it is
/// fetched and published once, the result is what SQLite holds for the same commit, and a holder
/// whose lease was taken over publishes nothing.
@Suite(.serialized) struct PostgresSyncTests {
    static let logger = Logger(label: "test")

    static func git(_ arguments: [String], in directory: String) throws {
        let result = try run("/usr/bin/git", ["-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments, in: directory)
        guard result.status == 0 else { throw PrivatePostgres.Problem("git \(arguments): \(result.stderr)") }
    }

    /// A bare repository with three skills, and the manifest of a host syncing it.
    func fixture(_ root: String) throws -> HostContext {
        try Self.git(["init", "-q", "-b", "main", "work"], in: root)
        try Self.git(["init", "-q", "--bare", "-b", "main", "remote.git"], in: root)
        for name in ["pdf-tools", "chart-maker", "csv-cleaner"] {
            try write("---\nname: \(name)\ndescription: The \(name) skill.\n---\nUse it.\n", to: "work/skills/\(name)/SKILL.md", in: root)
        }
        try Self.git(["add", "-A"], in: root + "/work")
        try Self.git(["commit", "-q", "-m", "skills"], in: root + "/work")
        try Self.git(["push", "-q", root + "/remote.git", "HEAD:refs/heads/main"], in: root + "/work")
        try write("""
            version: 1
            host: { database: state/registry.db, cache: state/cache }
            sync: { timeout: 20s }
            sources:
              - name: team
                git: file://\(root)/remote.git
            """, to: "registry.yaml", in: root)
        var environment = ProcessInfo.processInfo.environment
        environment["AGENTHUB_BINARY"] = agenthubBinary()
        return try HostContext.open(configPath: root + "/registry.yaml", logger: Self.logger, environment: environment)
    }

    func syncer(_ context: HostContext, _ registry: any SyncLedger, owner: String) -> SourceSyncer {
        var syncer = SourceSyncer(manifest: context.manifest, registry: registry, logger: Self.logger,
                                  supervisor: .current(environment: context.environment), environment: context.environment)
        syncer.leaseOwner = owner
        return syncer
    }


    @Test func twoHostsRacingForAGitSourcePublishItOnceAndAsSQLiteDoes() async throws {
        guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
        let a = try await PostgresRegistry.open(location, logger: Self.logger), b = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { a.close(); b.close() }
        try await withTemporaryDirectory { root in
            let context = try fixture(root)
            let hostA = syncer(context, a, owner: "host-a:1:x"), hostB = syncer(context, b, owner: "host-b:2:y")
            try await onOwnThread { try hostA.declareSources() }
            let source = try #require(context.manifest.sources.first)
            async let first = onOwnThread { hostA.sync(source, force: true) }
            async let second = onOwnThread { hostB.sync(source, force: true) }
            let outcomes = try await [first, second].map(\.outcome)
            #expect(outcomes.filter { $0 == .published }.count == 1 && outcomes.filter { $0 == .busy }.count <= 1, "\(outcomes)")
            if !outcomes.contains(.busy) {   // one finished before the other started: the second found nothing new
                #expect(outcomes.contains(.unchanged), "\(outcomes)")
            }

            // The same commit synced into SQLite gives the same skills.
            let local = try #require(try context.syncer.sync().first)
            #expect(local.outcome == .published)
            let theirs = try await a.skills(SkillQuery(limit: 50)).map { "\($0.skill.name)@\($0.skill.revision)" }
            let ours = try await context.registry.skills(SkillQuery(limit: 50)).map { "\($0.skill.name)@\($0.skill.revision)" }
            #expect(theirs == ours && theirs.count == 3, "PostgreSQL \(theirs), SQLite \(ours)")
            let record = try #require(try await a.source(named: "team"))
            #expect(record.status == .ready && record.skillCount == 3 && record.revision == local.revision)

            // A holder whose lease was taken over publishes nothing.
            #expect(try await onOwnThread { try a.acquireLease("team", owner: "host-a:1:x", seconds: 0.001) })
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await onOwnThread { try b.acquireLease("team", owner: "host-b:2:y", seconds: 600) })
            let snapshot = try SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/work/skills"))
            let stale = await #expect(throws: RegistryError.self) { try await onOwnThread { try a.publish(snapshot, to: "team", options: PublishOptions()) } }
            #expect(stale?.code == .conflict && stale?.message.contains("no longer host-a:1:x's") == true, "\(stale?.message ?? "")")
            #expect(try await a.skills(SkillQuery(limit: 50)).count == 3, "the stale publish changed nothing")
        }
    }
}

