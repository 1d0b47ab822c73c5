import Base
import Foundation
import GitSync
import Registry
import Testing
import TestSupport
@testable import Host
#if canImport(Glibc)
import Glibc
#endif

/// Git sources over the network on 127.0.0.1: `git daemon`, smart HTTP with basic auth, and servers
/// that misbehave. Every fault ends with the registry consistent and the previous revision served.
@Suite struct GitNetworkSyncTests {
    /// A remote with one skill, published once through `url(remote root)`.
    func publishedOnce(_ root: String, url: (GitRemoteFixture) -> String, extra: String = "",
                       environment: [String: String] = [:]) async throws -> (GitRemoteFixture, HostContext, String) {
        let repo = try GitRemoteFixture(root: root + "/origin")
        try repo.skill("alpha")
        let commit = try repo.commitAndPush()
        let context = try gitContext(root: root, url: url(repo), extra: extra, environment: environment)
        let first = await context.syncer.syncTeam()
        #expect(first.outcome == .published, "\(first.message ?? "")")
        return (repo, context, commit)
    }

    /// A remote over smart HTTP whose requests the test can hold: `first` is published, `second` is
    /// pushed, and every request now waits until `release()` (the fault is then surely mid-fetch).
    struct HeldRemote {
        let root: String
        let server: ServerProcess
        let context: HostContext
        let first: String
        let second: String
        var url: String { "http://127.0.0.1:\(server.port)/remote.git" }
        func release() throws { try write("0", to: "delay", in: root) }
    }

    func heldRemote(_ root: String) async throws -> HeldRemote {
        try write("0", to: "delay", in: root)
        let server = try ServerProcess.gitHTTP(root: root + "/origin", delayFile: root + "/delay")
        let (repo, context, first) = try await publishedOnce(root, url: { _ in "http://127.0.0.1:\(server.port)/remote.git" })
        try repo.skill("beta")
        let second = try repo.commitAndPush()
        try write("60", to: "delay", in: root)
        return HeldRemote(root: root, server: server, context: context, first: first, second: second)
    }

    func expectPreviousRevisionServed(_ context: HostContext, _ commit: String) throws {
        let source = try #require(try context.db.source(named: "team"))
        #expect(source.revision?.hasSuffix("@\(commit)") == true)
        #expect(try context.db.servableSkills().map(\.name) == ["alpha"])
        #expect(try context.db.integrityCheck() == "ok")
    }

    @Test func aSourceSyncsOverGitDaemonAndAStoppedDaemonIsANetworkFailure() async throws {
        try await withTemporaryDirectory { root in
            try FileManager.default.createDirectory(atPath: root + "/origin", withIntermediateDirectories: true)
            let daemon = try ServerProcess.gitDaemon(base: root + "/origin")
            let (repo, context, commit) = try await publishedOnce(root, url: { _ in "git://127.0.0.1:\(daemon.port)/remote.git" })
            try repo.skill("beta")
            let second = try repo.commitAndPush()
            let update = await context.syncer.syncTeam()
            #expect(update.outcome == .published)
            #expect(update.revision == "main@\(second)")
            daemon.stop()

            let refused = await context.syncer.syncTeam()
            #expect(refused.outcome == .failed)
            #expect(refused.failureKind == .network, "\(refused.message ?? "")")
            #expect(try context.db.source(named: "team")?.revision == "main@\(second)")
            _ = commit
        }
    }

    @Test func aServerThatNeverAnswersIsEndedAtTheDeadlineAndLeavesNothingRunning() async throws {
        try await withTemporaryDirectory { root in
            let (_, first, commit) = try await publishedOnce(root, url: { $0.remote })
            let silent = try ServerProcess.gitHTTP(root: root, silent: true)
            defer { silent.stop() }
            let context = try gitContext(root: root, url: "http://127.0.0.1:\(silent.port)/remote.git", extra: "timeout: 2s")
            _ = first
            let workers = WorkerLog()
            var syncer = context.syncer
            syncer.onWorkerStarted = workers.record
            let started = Date()
            let result = await syncer.syncTeam()
            let elapsed = Date().timeIntervalSince(started)
            #expect(result.outcome == .failed)
            #expect(result.failureKind == .timeout)
            #expect(result.message?.contains("did not finish within its 2s deadline") == true)
            #expect(elapsed < 30, "a hung fetch must end at its deadline, not run on (took \(elapsed) s)")
            #expect(workers.pids.count == 1)
            #expect(workers.pids.allSatisfy { !processExists($0) })
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.status == .failed)
            #expect(source.failureKind == "timeout")
            try expectPreviousRevisionServed(context, commit)
        }
    }

    @Test func basicAuthWithATokenFromTheEnvironmentPublishesAndTheTokenIsNeverRecorded() async throws {
        try await withTemporaryDirectory { root in
            try write("s3cret-token-1\n", to: "password", in: root)
            let server = try ServerProcess.gitHTTP(root: root + "/origin", user: "alice", passwordFile: root + "/password")
            defer { server.stop() }
            let (_, context, commit) = try await publishedOnce(root, url: { _ in "http://127.0.0.1:\(server.port)/remote.git" },
                                                              extra: "username: alice\ntoken_env: TEAM_TOKEN",
                                                              environment: ["TEAM_TOKEN": "s3cret-token-1"])
            #expect(try context.db.source(named: "team")?.commit == commit)
            let dump = try await run("/usr/bin/env", ["sqlite3", context.db.path, ".dump"])
            #expect(dump.status == 0)
            #expect(!dump.stdout.contains("s3cret-token-1"))
        }
    }

    @Test func httpsToAPrivateCAIsRefusedUntilCAFileTrustsIt() async throws {
        try await withTemporaryDirectory { root in
            let tls = try await makePrivateCA(in: root + "/tls")
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            let commit = try repo.commitAndPush()
            let server = try ServerProcess.gitHTTP(root: root + "/origin", tls: (tls.cert, tls.key))
            defer { server.stop() }
            let url = "https://127.0.0.1:\(server.port)/remote.git"

            let untrusted = await (try gitContext(root: root, url: url)).syncer.syncTeam()
            #expect(untrusted.outcome == .failed)
            #expect(untrusted.failureKind == .auth)
            #expect(untrusted.message == "the TLS certificate of 127.0.0.1 is not trusted (set ca_file to trust a private CA)")

            let trusted = await (try gitContext(root: root, url: url, extra: "ca_file: tls/ca.pem")).syncer.syncTeam()
            #expect(trusted.outcome == .published, "\(trusted.message ?? "")")
            #expect(trusted.revision == "main@\(commit)")
        }
    }

    @Test func aScheduledRunRightAfterAnotherHostFetchedDoesNotFetchAgainAndAnAskedForOneDoes() async throws {
        try await withTemporaryDirectory { root in
            try FileManager.default.createDirectory(atPath: root + "/origin", withIntermediateDirectories: true)
            let server = try ServerProcess.gitHTTP(root: root + "/origin", stats: root + "/stats.json")
            defer { server.stop() }
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: "http://127.0.0.1:\(server.port)/remote.git", sync: "  interval: 1h")
            func fetches() throws -> Int {
                let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/stats.json"))) as? [String: Int]
                return stats?["fetches"] ?? -1
            }
            #expect(await context.syncer.syncTeam(force: false).outcome == .published)
            #expect(try fetches() == 1)
            // Another host on the same registry: its scheduled run finds the check a moment old.
            var other = context.syncer
            other.leaseOwner = "other-machine:4242:abcdef12"
            let skipped = await other.syncTeam(force: false)
            #expect(skipped.outcome == .recent, "\(skipped)")
            #expect(skipped.checkedAt != nil && skipped.skills == 1)
            #expect(SyncService.verdict(skipped) == .checkedElsewhere(at: skipped.checkedAt!))
            #expect(try fetches() == 1)
            // Someone asking for a sync gets one.
            #expect(await other.syncTeam(force: true).outcome == .unchanged)
            #expect(try fetches() == 2)
        }
    }

    @Test func aRefusedTokenFailsAsAuthWithoutLoopingAndWithoutShowingTheToken() async throws {
        try await withTemporaryDirectory { root in
            try write("right-password\n", to: "password", in: root)
            try FileManager.default.createDirectory(atPath: root + "/origin", withIntermediateDirectories: true)
            let server = try ServerProcess.gitHTTP(root: root + "/origin", user: "alice", passwordFile: root + "/password", stats: root + "/stats.json")
            defer { server.stop() }
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: "http://127.0.0.1:\(server.port)/remote.git",
                                         extra: "username: alice\ntoken_env: TEAM_TOKEN", environment: ["TEAM_TOKEN": "wrong-password-xyz"])
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .failed)
            #expect(result.failureKind == .auth)
            #expect(result.message?.contains("refused the configured credentials") == true)
            #expect(result.message?.contains("wrong-password-xyz") == false)
            let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/stats.json"))) as? [String: Int]
            #expect((stats?["unauthorized"] ?? 99) <= 3, "the credential callback must not loop: \(stats ?? [:])")
            let source = try #require(try context.db.source(named: "team"))
            #expect(source.failureKind == "auth")
            #expect(source.statusReason?.contains("wrong-password-xyz") == false)
        }
    }

    @Test func aMissingTokenVariableStallsTheSourceAsAConfigurationError() async throws {
        try await withTemporaryDirectory { root in
            let repo = try GitRemoteFixture(root: root + "/origin")
            try repo.skill("alpha")
            try repo.commitAndPush()
            let context = try gitContext(root: root, url: "http://127.0.0.1:9/remote.git", extra: "token_env: NOT_SET_ANYWHERE_42")
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .stalled)
            #expect(result.message == "sources.team.token_env names the environment variable NOT_SET_ANYWHERE_42, which is not set")
            #expect(try context.db.source(named: "team")?.status == .stalled)
        }
    }

    @Test func aTokenRotatedInItsFileIsPickedUpAtTheNextSyncWithoutARestart() async throws {
        try await withTemporaryDirectory { root in
            try write("token-one\n", to: "password", in: root)
            try write("token-one\n", to: "token", in: root)
            let server = try ServerProcess.gitHTTP(root: root + "/origin", user: "alice", passwordFile: root + "/password")
            defer { server.stop() }
            let (repo, context, _) = try await publishedOnce(root, url: { _ in "http://127.0.0.1:\(server.port)/remote.git" },
                                                            extra: "username: alice\ntoken_file: token")
            // The server rotates first: the old token is refused.
            try write("token-two\n", to: "password", in: root)
            try repo.skill("beta")
            let second = try repo.commitAndPush()
            #expect(await context.syncer.syncTeam().failureKind == .auth)
            // The new token lands in the file; the same syncer (no restart) reads it.
            try write("token-two\n", to: "token", in: root)
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .published, "\(result.message ?? "")")
            #expect(result.revision == "main@\(second)")
        }
    }

    @Test func aKilledFetchWorkerFailsTheSyncAndTheHostCarriesOn() async throws {
        try await withTemporaryDirectory { root in
            let remote = try await heldRemote(root)
            defer { remote.server.stop() }
            let context = remote.context
            var syncer = context.syncer
            syncer.onWorkerStarted = { pid in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(pid, SIGKILL) }
            }
            let result = await syncer.syncTeam()
            #expect(result.outcome == .failed)
            #expect(result.message?.contains("killed by signal 9") == true, "\(result.message ?? "")")
            try expectPreviousRevisionServed(context, remote.first)
            // The next sync works.
            try remote.release()
            #expect(await context.syncer.syncTeam().outcome == .published)
        }
    }

    @Test func aHostKilledMidSyncTakesItsWorkerWithItAndTheNextSyncTakesOverTheLease() async throws {
        try await withTemporaryDirectory { root in
            let remote = try await heldRemote(root)
            defer { remote.server.stop() }
            let context = remote.context
            let mark = "agenthub-test-\(UUID().uuidString)"
            let host = Process()
            host.executableURL = URL(fileURLWithPath: agenthubBinary())
            host.arguments = ["sync", "--config", root + "/registry.yaml"]
            host.environment = ProcessInfo.processInfo.environment.merging(["AGENTHUB_TEST_MARK": mark]) { $1 }
            host.standardOutput = FileHandle.nullDevice
            host.standardError = FileHandle.nullDevice
            try host.run()
            // Wait until its worker runs, then SIGKILL the host.
            var sawWorker = false
            for _ in 0..<600 where !sawWorker {
                try await Task.sleep(nanoseconds: 50_000_000)
                sawWorker = !processes(marked: mark).filter { $0 != host.processIdentifier }.isEmpty
            }
            #expect(sawWorker)
            kill(host.processIdentifier, SIGKILL)
            await onThread { host.waitUntilExit() }
            var left = processes(marked: mark)
            for _ in 0..<40 where !left.isEmpty {
                try await Task.sleep(nanoseconds: 50_000_000)
                left = processes(marked: mark)
            }
            #expect(left.isEmpty, "the fetch worker must die with its host")
            try expectPreviousRevisionServed(context, remote.first)
            #expect(try context.db.source(named: "team")?.leaseOwner != nil)  // left behind by the dead host
            try remote.release()
            let next = await context.syncer.syncTeam()
            #expect(next.outcome == .published, "\(next.message ?? "")")
            #expect(next.revision == "main@\(remote.second)")
        }
    }

    @Test func aSourceAnotherLiveProcessIsSyncingIsBusyNotSyncedTwice() async throws {
        try await withTemporaryDirectory { root in
            let (_, context, _) = try await publishedOnce(root, url: { $0.remote })
            let other = "\(ProcessInfo.processInfo.hostName):1:other"  // pid 1 is alive
            #expect(try context.db.acquireLease("team", owner: other, seconds: 60))
            let result = await context.syncer.syncTeam()
            #expect(result.outcome == .busy)
            try context.db.releaseLease("team", owner: other, checkedAt: nil)
            #expect(await context.syncer.syncTeam().outcome == .unchanged)
        }
    }

    @Test func aBurstOfTriggersWhileASyncRunsGivesExactlyOneFollowUp() async throws {
        try await withTemporaryDirectory { root in
            // Requests are held until the burst is in: the first sync is surely still fetching.
            let remote = try await heldRemote(root)
            defer { remote.server.stop() }
            let context = remote.context
            let workers = WorkerLog()
            var syncer = context.syncer
            syncer.onWorkerStarted = workers.record
            let service = SyncService(syncer: syncer)
            await service.update()
            let first = Task { await service.scheduler.trigger("team") }
            while workers.pids.isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
            let burst = (0..<10).map { _ in Task { await service.scheduler.trigger("team") } }
            while await service.scheduler.followUpWaiters("team") < 10 {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            try remote.release()
            #expect(await first.value?.outcome == .published)
            var followUps: [SourceSyncResult?] = []
            for task in burst { followUps.append(await task.value) }
            #expect(followUps.allSatisfy { $0?.outcome == .unchanged && $0?.revision == "main@\(remote.second)" })
            #expect(await service.scheduler.runsStarted["team"] == 2)
            #expect(workers.pids.count == 2)
        }
    }
}

/// Processes whose environment carries `mark` (this test's host and its workers).
func processes(marked mark: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        if stat.split(separator: " ").dropFirst(2).first == "Z" { return false }  // a zombie is already dead
        return environ.range(of: Data(("AGENTHUB_TEST_MARK=" + mark).utf8)) != nil
    }
}
