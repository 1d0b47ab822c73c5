import Base
import Foundation
import Logging
@testable import Plugins
import Registry
import TestSupport
import Testing
@testable import Host

/// The snapshot owner: a reload swaps a whole new snapshot in, or keeps the last good one.
@Suite struct HostStateTests {
    static func manifest(allow: String = "[skills_search]", extra: String = "") -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        policy:
          default: deny
          rules:
            - allow: \(allow)
        roles:
          worker: {}
        plugins:
          skills: {}
          memory: {}
        \(extra)
        """
    }

    func state(_ dir: String, _ text: String = manifest()) throws -> HostState {
        try write(text, to: "registry.yaml", in: dir)
        let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "state-test"))
        return try HostState(context: context, configPath: dir + "/registry.yaml", revision: context.revision)
    }

    func worker(_ state: HostState) throws -> ToolCaller {
        try state.snapshot.tools.identity.caller(agent: "w", role: "worker", group: nil)
    }

    @Test func aGoodEditIsAppliedAndTheNextCallSeesIt() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let before = state.snapshot
            #expect(!before.tools.router.verdict(for: "memory_search", caller: try worker(state)).permitsCall)
            try write(Self.manifest(allow: "[skills_search, memory_search]"), to: "registry.yaml", in: dir)
            let report = await state.reload(trigger: .request)
            #expect(report.result == .applied)
            #expect(report.previous == before.revision && report.revision != before.revision)
            #expect(state.snapshot.tools.router.verdict(for: "memory_search", caller: try worker(state)).permitsCall)
            // The old snapshot is untouched: a call that started under it finishes under it.
            #expect(!before.tools.router.verdict(for: "memory_search", caller: try worker(state)).permitsCall)
            #expect(state.snapshot.tools.router.settings.revision == report.revision)
        }
    }

    @Test func aBrokenEditKeepsTheLastGoodSnapshotAndNamesEveryProblem() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let revision = state.snapshot.revision
            try write(Self.manifest(allow: "[skills_search, memory_search]").replacingOccurrences(of: "  default: deny", with: "  default: perhaps")
                      + "\nbogus: 1\n", to: "registry.yaml", in: dir)
            let report = await state.reload(trigger: .signal)
            #expect(report.result == .rejected)
            #expect(report.revision == revision && state.snapshot.revision == revision)
            #expect(report.errors.count == 2, "\(report.errors)")
            #expect(report.errors.allSatisfy { $0.hasPrefix(dir + "/registry.yaml:") }, "\(report.errors)")
            #expect(report.errors.contains { $0.contains(":4:12: policy.default") }, "\(report.errors)")
            #expect(!state.snapshot.tools.router.verdict(for: "memory_search", caller: try worker(state)).permitsCall)
            #expect(state.lastReload?.result == .rejected)
        }
    }

    @Test func aChangeThatOnlyARestartAppliesIsReported() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            try write(Self.manifest(allow: "[memory_get]").replacingOccurrences(of: "cache: cache }", with: "cache: cache, http: 127.0.0.1:9999 }"),
                      to: "registry.yaml", in: dir)
            let report = await state.reload(trigger: .request)
            #expect(report.result == .applied)
            #expect(report.notes == ["host.http changed: it takes effect when the host restarts"])
            #expect(report.message.contains("host.http changed"))
        }
    }

    @Test func routersOfReplacedSnapshotsLeaveTheSharedBridge() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            for allow in ["[a1]", "[a2]", "[a3]", "[a4]", "[a5]"] {
                try write(Self.manifest(allow: allow), to: "registry.yaml", in: dir)
                #expect(await state.reload(trigger: .request).result == .applied)
            }
            // The serving router, and none of the five it replaced (the thread that built the last one may
            // hold the snapshot before it for a moment after it ends).
            for _ in 0..<200 where state.parts.bridge.handlerCount > 1 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(state.parts.bridge.handlerCount == 1)
        }
    }

    @Test func aManifestReplacedByADeviceAFolderOrNothingIsRejectedAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let revision = state.snapshot.revision
            for replace in ["/dev/zero", "folder", "gone"] {
                try? FileManager.default.removeItem(atPath: dir + "/registry.yaml")
                switch replace {
                case "folder": try FileManager.default.createDirectory(atPath: dir + "/registry.yaml", withIntermediateDirectories: false)
                case "gone": break
                default: try FileManager.default.createSymbolicLink(atPath: dir + "/registry.yaml", withDestinationPath: replace)
                }
                let report = await state.reload(trigger: .signal)
                #expect(report.result == .rejected, "\(replace)")
                #expect(report.errors.count == 1 && report.errors[0].contains("registry.yaml"), "\(report.errors)")
                #expect(state.snapshot.revision == revision)
            }
        }
    }

    @Test func theSameBytesChangeNothing() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let snapshot = state.snapshot
            let report = await state.reload(trigger: .file)
            #expect(report.result == .unchanged)
            #expect(state.snapshot.loadedAt == snapshot.loadedAt)
        }
    }

    @Test func observersRunAfterTheSwapInOrderAndAReloadWaitsForThem() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let seen = LockedValue<[String]>([])
            state.watch { _, new in seen.value.append("watch \(new.revision)") }
            state.observe { _, new in
                #expect(state.snapshot.revision == new.revision)
                try? await Task.sleep(for: .milliseconds(20))
                seen.value.append("observe \(new.revision)")
            }
            try write(Self.manifest(allow: "[memory_get]"), to: "registry.yaml", in: dir)
            let report = await state.reload(trigger: .request)
            #expect(seen.value == ["watch \(report.revision)", "observe \(report.revision)"])
        }
    }

    @Test func aBurstOfSavesIsOneReloadAndASaveByRenameIsSeen() async throws {
        try await withTemporaryDirectory { dir in
            let state = try state(dir)
            let reports = LockedValue<[ReloadReport]>([])
            state.onReport { reports.value.append($0) }
            // A wide quiet window, so a loaded machine writing slowly is still one burst.
            var settings = ReloadService.Settings()
            settings.reloadOnSIGHUP = false
            settings.watcher.quiet = .milliseconds(400)
            settings.watcher.maxDelay = .seconds(5)
            let service = ReloadService(state: state, settings: settings, logger: Logger(label: "state-test"))
            let running = Task { try await service.run() }
            defer { running.cancel() }
            try await Task.sleep(for: .milliseconds(200))  // the watcher is watching
            // Five saves in a row (an editor writing in place, then closing, five times).
            for allow in ["[a1]", "[a2]", "[a3]", "[a4]", "[memory_get]"] {
                let handle = try #require(FileHandle(forWritingAtPath: dir + "/registry.yaml"))
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: Data(Self.manifest(allow: allow).utf8))
                try handle.close()
            }
            for _ in 0..<1000 where reports.value.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(600))
            #expect(reports.value.map(\.result) == [.applied], "\(reports.value.map { "\($0.result) \($0.errors)" })")
            #expect(state.snapshot.manifest.policy.rules.first?.patterns == ["memory_get"])

            // Save by rename: write a new file, move it over the manifest.
            try Self.manifest(allow: "[skills_get]").write(toFile: dir + "/.registry.yaml.swp", atomically: false, encoding: .utf8)
            #expect(rename(dir + "/.registry.yaml.swp", dir + "/registry.yaml") == 0)
            for _ in 0..<1000 where reports.value.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(reports.value.count == 2)
            #expect(state.snapshot.manifest.policy.rules.first?.patterns == ["skills_get"])
        }
    }
}
