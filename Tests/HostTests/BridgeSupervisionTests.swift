import Base
import Foundation
import Plugins
import Registry
import TestSupport
import Testing
@testable import Host

/// The bridge against a misbehaving server of our own (Python `mcp` SDK): every case is answered,
/// none hangs.
@Suite(.serialized) struct BridgeSupervisionTests {
    @Test func aBridgedToolIsCalledThroughTheRouterWithItsServerPrefix() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            defer { Task { await host.stop() } }
            let outcome = await host.call("t__echo", ["text": "hello"])
            #expect(outcome.status == .succeeded)
            #expect(outcome.result.text == "hello")
            #expect(outcome.result.structuredContent?["result"] == "hello")
            let names = host.router.tools(for: worker).map(\.descriptor.name)
            #expect(names.contains("t__echo") && names.contains("t__sleep"))
            #expect(host.status("t")?.state == .ready)
            #expect(host.status("t")?.protocolVersion == "2025-11-25")
            await host.stop()
        }
    }

    @Test func aToolErrorStaysAToolErrorAndBadArgumentsAreRefusedBeforeTheServer() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let failed = await host.call("t__fail")
            #expect(failed.status == .failed)
            #expect(failed.result.isError)
            #expect(failed.result.text.contains("fail"), "\(failed.result.text)")
            let invalid = await host.call("t__echo", ["text": 5])
            #expect(invalid.status == .failed)
            #expect(invalid.reason == "invalid_arguments")
            await host.stop()
        }
    }

    @Test func aServerThatCrashesMidCallFailsTheCallWithItsExitStatusAndStderrAndIsRestarted() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let firstPid = try #require(host.status("t")?.pid)
            let outcome = await host.call("t__crash")
            #expect(outcome.status == .failed)
            #expect(outcome.result.text.contains("exited with status 3"), "\(outcome.result.text)")
            #expect(outcome.result.text.contains("boom: crashing mid-call"), "\(outcome.result.text)")
            // While it is down its tools fail fast; then it is back with a new pid.
            #expect(await host.wait { host.status("t")?.state == .ready && host.status("t")?.pid != firstPid })
            #expect(host.status("t")?.restarts == 1)
            #expect(await host.call("t__echo", ["text": "again"]).result.text == "again")
            await host.stop()
        }
    }

    @Test func aServerThatCrashesAtStartIsRetriedWithBackoffThenFailedAndItsToolsFailFast() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("bad", mode: "crash-at-start"),
                                                  extra: "    max_restarts: 2\n    failed_retry: 1h")
            #expect(await host.wait { host.status("bad")?.state == .failed })
            let status = try #require(host.status("bad"))
            #expect(status.restarts == 2)
            #expect(status.lastExit?.contains("exited with status 2") == true, "\(status.lastExit ?? "")")
            #expect(status.stderrTail.contains { $0.contains("fatal: cannot start") })
            // It never listed tools, so none exist; an unknown name is answered at once.
            let started = ContinuousClock.now
            let outcome = await host.call("bad__echo", ["text": "x"])
            #expect(outcome.status == .blocked)
            #expect(ContinuousClock.now - started < .seconds(5))
            await host.stop()
        }
    }

    @Test func aServerThatNeverAnswersInitializeIsKilledAtItsStartTimeout() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("mute", mode: "never-init", extra: "        start_timeout: 500ms"),
                                                  extra: "    max_restarts: 1\n    failed_retry: 1h")
            #expect(await host.wait { host.status("mute")?.state == .failed })
            let status = try #require(host.status("mute"))
            #expect(status.lastExit?.contains("did not answer initialize") == true, "\(status.lastExit ?? "")")
            await host.stop()
        }
    }

    @Test func aSlowServerDoesNotDelayAnotherServersTools() async throws {
        try await withTemporaryDirectory { dir in
            let servers = BridgeHost.testServer("mute", mode: "never-init", extra: "        start_timeout: 30s") + "\n" + BridgeHost.testServer("t")
            let host = try await BridgeHost.start(dir, servers: servers, settle: false)
            // Ready, and its tools in the router (the status turns ready just before the router is told).
            #expect(await host.wait { host.status("t")?.state == .ready && host.router.descriptor(named: "t__echo") != nil })
            #expect(host.status("mute")?.state == .starting)
            #expect(await host.call("t__echo", ["text": "fast"]).result.text == "fast")
            await host.stop()
        }
    }

    @Test func aCallPastItsTimeoutIsAnsweredAndTheServerSeesTheCancellation() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t", extra: """
                        timeout: 2s
                        env: { MARKER_DIR: "\(dir)" }
                """))
            // Progress shows the server is inside the tool before the timeout cancels it.
            let progressed = Box(false)
            let outcome = await host.call("t__sleep", ["seconds": 30]) { _, _, _ in progressed.update { $0 = true } }
            #expect(progressed.value)
            #expect(outcome.status == .failed)
            #expect(outcome.reason == "timeout")
            #expect(outcome.result.text.contains("its server's timeout"), "\(outcome.result.text)")
            #expect(await host.wait { FileManager.default.fileExists(atPath: dir + "/cancelled") })
            // The connection is still good.
            #expect(await host.call("t__echo", ["text": "still here"]).result.text == "still here")
            await host.stop()
        }
    }

    @Test func aCallersCancellationReachesTheServer() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t", extra: "        env: { MARKER_DIR: \"\(dir)\" }"))
            // Cancel once progress shows the server is inside the tool (a cancel for a request the
            // server has not started yet is one it may ignore).
            let progressed = Box(false)
            let call = Task { await host.call("t__sleep", ["seconds": 30]) { _, _, _ in progressed.update { $0 = true } } }
            #expect(await host.wait(seconds: 60) { progressed.value })
            call.cancel()
            let outcome = await call.value
            #expect(outcome.reason == "cancelled")
            #expect(await host.wait { FileManager.default.fileExists(atPath: dir + "/cancelled") })
            await host.stop()
        }
    }

    @Test func progressFromTheServerReachesTheCaller() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let seen = Box<[Double]>([])
            let outcome = await host.call("t__sleep", ["seconds": 0.3]) { progress, total, _ in
                seen.update { $0.append(progress) }
                #expect(total == 3)
            }
            #expect(outcome.status == .succeeded)
            #expect(seen.value == [1, 2, 3])
            await host.stop()
        }
    }

    @Test func garbageOnStdoutIsDroppedAndTheSessionGoesOn() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("g", mode: "garbage"))
            #expect(host.status("g")?.state == .ready)
            for i in 0..<3 { #expect(await host.call("g__echo", ["text": .string("n\(i)")]).result.text == "n\(i)") }
            #expect(host.status("g")?.restarts == 0)
            await host.stop()
        }
    }

    @Test func aLargeResultArrivesWhole() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let outcome = await host.call("t__big", ["size": 4_000_000])
            #expect(outcome.status == .succeeded)
            #expect(outcome.result.content.first?.text.utf8.count == 4_000_000)
            await host.stop()
        }
    }

    @Test func aServerThatChangesItsToolsIsListedAgainAndTheRouterTellsItsObservers() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let told = Box(0)
            host.router.addObserver { told.update { $0 += 1 } }
            #expect(host.router.descriptor(named: "t__added") == nil)
            #expect(await host.call("t__add_tool").status == .succeeded)
            #expect(await host.wait { host.router.descriptor(named: "t__added") != nil })
            #expect(await host.wait { told.value >= 1 })
            #expect(await host.call("t__added").result.text == "added works")
            await host.stop()
        }
    }

    @Test func theChildGetsPathHomeLocaleAndItsEntrysEnvAndNoSecretOfTheHost() async throws {
        try await withTemporaryDirectory { dir in
            var environment = ProcessInfo.processInfo.environment
            environment["AGENTHUB_TEST_SECRET_TOKEN"] = "s3cr3t"
            environment["GREETING"] = "hi"
            try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t", extra: """
                        env: { FROM_ENTRY: "${GREETING}", WITH_DEFAULT: "${UNSET_THING:-fallback}" }
                        cwd: work
                """), environment: environment)
            let names = await host.call("t__env").result.structuredContent?["result"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(names.contains("PATH") && names.contains("FROM_ENTRY") && names.contains("WITH_DEFAULT"))
            #expect(!names.contains("AGENTHUB_TEST_SECRET_TOKEN"))
            #expect(!names.contains("AGENTHUB_PYTHON") && !names.contains("AGENTHUB_BINARY"))
            let cwd = await host.call("t__cwd").result.text
            #expect(cwd.hasSuffix("/work"))
            await host.stop()
        }
    }

    @Test func aDestructiveToolIsHighRiskAndADeniedToolIsNeitherListedNorCallable() async throws {
        try await withTemporaryDirectory { dir in
            let rules = "    - allow: [\"t__*\"]\n    - deny: [t__echo]"
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t", extra: "        risk: low"), rules: rules)
            #expect(host.router.descriptor(named: "t__wipe")?.risk == .high)
            #expect(host.router.descriptor(named: "t__cwd")?.risk == .low)
            let visible = host.router.tools(for: worker).map(\.descriptor.name)
            #expect(!visible.contains("t__wipe"))  // high risk: a glob does not allow it
            #expect(!visible.contains("t__echo"))
            #expect(await host.call("t__echo", ["text": "x"]).status == .blocked)
            #expect(await host.call("t__wipe").status == .blocked)
            await host.stop()
        }
    }

    @Test func aToolWhoseBridgedNameWouldPass64CharactersIsRefusedAndTheOthersWork() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("t"))
            let long = "t__" + String(repeating: "t", count: 62)
            #expect(long.count == 65)
            #expect(host.router.descriptor(named: long) == nil)
            let problems = host.status("t")?.problems ?? []
            #expect(problems.contains { $0.contains("plugins.mcp.servers.t") && $0.contains("65 characters") }, "\(problems)")
            // Like `check`, it starts with where the entry is written.
            #expect(problems.allSatisfy { $0.hasPrefix(host.manifest.file + ":") }, "\(problems)")
            #expect(await host.call("t__echo", ["text": "ok"]).status == .succeeded)
            await host.stop()
        }
    }
}

/// A value tests update from callbacks.
final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func update(_ change: (inout T) -> Void) { lock.withLock { change(&stored) } }
}
