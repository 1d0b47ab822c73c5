import Base
import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// No bridged server outlives the host that started it, however the host ends.
@Suite(.serialized) struct BridgeLifetimeTests {
    /// Starts `agenthub mcp` on a manifest bridging the test server, initialises it over stdin, and
    /// returns the host process with the pid of its server.
    /// A second server, `mute`, ignores the end of its stdin (it never exits by itself): only the
    /// kernel's parent-death signal ends it when the host is SIGKILLed.
    func startHost(_ dir: String) throws -> (Process, Pipe, [Int32]) {
        let python = testPython() ?? "python3"
        try write("""
            version: 1
            host: { database: registry.db, cache: cache }
            policy:
              default: deny
              rules:
                - allow: ["t__*"]
            roles:
              worker: {}
            plugins:
              mcp:
                servers:
                  t: { command: \(python), args: [\(bridgeTestServer)], start_timeout: 90s }
                  mute: { command: \(python), args: [\(bridgeTestServer), never-init], start_timeout: 1h }
            """, to: "registry.yaml", in: dir)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agenthubBinary())
        process.arguments = ["mcp", "--role", "worker", "--agent", "lifetime", "--no-sync"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("""
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n
            """.utf8))
        // Both servers run once their processes show the server's command line: the shim has set
        // PR_SET_PDEATHSIG and exec'd it. Wait with a deadline, so a host that never starts them fails.
        var children: [Int32] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            children = Self.children(of: process.processIdentifier).filter { pid in
                let argv = ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\0")
                // Exec'd: the program is the server's, no longer the agenthub shim.
                return argv.contains { $0.hasSuffix("bridge_test_server.py") } && !(argv.first ?? "").hasSuffix("agenthub")
            }
            if children.count == 2 { break }
            usleep(20_000)
        }
        #expect(children.count == 2, "agenthub mcp started \(children.count) servers")
        return (process, input, children)
    }

    /// `startHost` on a thread of its own: it polls and blocks, which must not hold one of the
    /// cooperative pool's few threads (other suites' timers need them).
    func started(_ dir: String) async throws -> (Process, Pipe, [Int32]) {
        let box = UncheckedBox<Result<(Process, Pipe, [Int32]), any Error>>()
        await onThread { box.value = Result { try self.startHost(dir) } }
        return try box.value!.get()
    }

    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    func waitGone(_ pid: Int32) async -> Bool {
        for _ in 0..<500 {
            if processIsGone(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return processIsGone(pid)
    }

    @Test func aSIGKILLedHostLeavesNoServerBehind() async throws {
        try await withTemporaryDirectory { dir in
            let (host, _, servers) = try await started(dir)
            for server in servers { #expect(!processIsGone(server)) }
            kill(host.processIdentifier, SIGKILL)
            await onThread { host.waitUntilExit() }
            for server in servers { #expect(await waitGone(server), "the bridged server \(server) outlived its SIGKILLed host") }
        }
    }

    @Test func closingTheHostsStdinStopsItsServers() async throws {
        try await withTemporaryDirectory { dir in
            let (host, input, servers) = try await started(dir)
            try input.fileHandleForWriting.close()
            await onThread { host.waitUntilExit() }
            #expect(host.terminationStatus == 0)
            for server in servers { #expect(await waitGone(server)) }
        }
    }

    /// What `agenthub servers --json` says, by server.
    func statuses(_ dir: String) async throws -> [String: [String: Any]] {
        let result = try await run(agenthubBinary(), ["servers", "--json"], in: dir)
        let rows = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
        return Dictionary(rows.map { ($0["server"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aSIGTERMedHostStopsItsServersAndAgenthubServersShowsWhatItRan() async throws {
        try await withTemporaryDirectory { dir in
            let (host, _, servers) = try await started(dir)
            var seen: [String: [String: Any]] = [:]
            for _ in 0..<300 {
                seen = try await statuses(dir)
                if seen["t"]?["state"] as? String == "ready" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(seen["t"]?["state"] as? String == "ready", "\(seen)")
            #expect(seen["t"]?["host_running"] as? Bool == true)
            #expect(seen["t"]?["pid"] as? Int != nil)
            #expect((seen["t"]?["toolCount"] as? Int ?? 0) > 5)
            #expect(seen["mute"]?["state"] as? String == "starting")
            kill(host.processIdentifier, SIGTERM)
            await onThread { host.waitUntilExit() }
            for server in servers { #expect(await waitGone(server)) }
            let after = try await statuses(dir)
            #expect(after["t"]?["state"] as? String == "stopped")
            #expect(after["t"]?["host_running"] as? Bool == false)
        }
    }
}

/// Carries a non-Sendable value out of a thread the caller waits for.
final class UncheckedBox<T>: @unchecked Sendable {
    var value: T?
}
