import Foundation
import Logging
import Plugins
import TestSupport
import Testing
@testable import Host

/// A reloaded manifest's servers: only what changed is restarted.
@Suite struct BridgeReloadTests {
    @Test func aReloadRestartsOnlyTheServerWhoseEntryChangedAndStopsARemovedOne() async throws {
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: BridgeHost.testServer("a") + "\n" + BridgeHost.testServer("b"))
            defer { Task { await host.stop() } }
            let pidA = try #require(host.status("a")?.pid)
            let pidB = try #require(host.status("b")?.pid)
            var env = ProcessInfo.processInfo.environment
            env["AGENTHUB_BINARY"] = agenthubBinary()
            func apply(_ servers: String) async throws -> (started: [String], stopped: [String]) {
                let text = try String(contentsOfFile: dir + "/registry.yaml", encoding: .utf8)
                let head = text.components(separatedBy: "    servers:\n")[0]
                try write(head + "    servers:\n" + servers, to: "registry.yaml", in: dir)
                let manifest = try ManifestLoader.load(path: dir + "/registry.yaml", environment: env)
                return await host.bridge.apply(servers: ToolHost.bridgedServers(manifest, environment: env),
                                               settings: ToolHost.bridgeSettings(manifest, environment: env))
            }

            // The same entries: nothing restarts; nor does a new startup_wait, which changes no server.
            let same = try await apply(BridgeHost.testServer("a") + "\n" + BridgeHost.testServer("b"))
            #expect(same.started.isEmpty && same.stopped.isEmpty)
            let text = try String(contentsOfFile: dir + "/registry.yaml", encoding: .utf8)
            try write(text.replacingOccurrences(of: "startup_wait: 20s", with: "startup_wait: 5s"), to: "registry.yaml", in: dir)
            let waited = try await apply(BridgeHost.testServer("a") + "\n" + BridgeHost.testServer("b"))
            #expect(waited.started.isEmpty && waited.stopped.isEmpty)

            // b's entry changes: only b restarts.
            let changed = try await apply(BridgeHost.testServer("a") + "\n" + BridgeHost.testServer("b", extra: "        env: { MARK: changed }"))
            #expect(changed.started == ["b"] && changed.stopped == ["b"])
            #expect(await host.wait(seconds: 60) { host.status("b")?.state == .ready && host.status("b")?.pid != pidB })
            // Ready is recorded a moment before the router re-reads the tools: wait for those too.
            #expect(await host.wait(seconds: 60) { host.router.descriptor(named: "b__env") != nil })
            #expect(host.status("a")?.pid == pidA)
            let bGone = await host.wait { processIsGone(pidB) }
            #expect(bGone)
            let seen = await host.call("b__env")
            #expect(seen.result.text.contains("MARK"), "\(seen.result.text)")

            // a is removed: it stops and its tools leave the router.
            let removed = try await apply(BridgeHost.testServer("b", extra: "        env: { MARK: changed }"))
            #expect(removed.stopped == ["a"] && removed.started.isEmpty)
            #expect(await host.wait { processIsGone(pidA) })
            #expect(await host.wait { !host.router.descriptors.contains { $0.name.hasPrefix("a__") } })
            #expect(host.router.descriptors.contains { $0.name == "b__echo" })
        }
    }
}
