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
                startup_wait: 60s
                servers:
                  t: { command: \(python), args: [\(bridgeTestServer)] }
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
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
            {"jsonrpc":"2.0","id":2,"method":"tools/list"}\n
            """.utf8))
        // The answer to tools/list comes once the server is ready (the first list waits for it).
        // Read with a deadline: a host that never answers fails the test instead of hanging it.
        var seen = Data()
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(90)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !String(decoding: seen, as: UTF8.self).contains("\"id\":2"), Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            seen.append(contentsOf: buffer[0..<n])
        }
        #expect(String(decoding: seen, as: UTF8.self).contains("t__echo"))
        let children = Self.children(of: process.processIdentifier)
        #expect(children.count == 2, "agenthub mcp started \(children.count) children: \(String(decoding: seen, as: UTF8.self).prefix(500))")
        return (process, input, children)
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
            let (host, _, servers) = try startHost(dir)
            for server in servers { #expect(!processIsGone(server)) }
            kill(host.processIdentifier, SIGKILL)
            host.waitUntilExit()
            for server in servers { #expect(await waitGone(server), "the bridged server \(server) outlived its SIGKILLed host") }
        }
    }

    @Test func closingTheHostsStdinStopsItsServers() async throws {
        try await withTemporaryDirectory { dir in
            let (host, input, servers) = try startHost(dir)
            try input.fileHandleForWriting.close()
            host.waitUntilExit()
            #expect(host.terminationStatus == 0)
            for server in servers { #expect(await waitGone(server)) }
        }
    }

    @Test func aSIGTERMedHostStopsItsServers() async throws {
        try await withTemporaryDirectory { dir in
            let (host, _, servers) = try startHost(dir)
            kill(host.processIdentifier, SIGTERM)
            host.waitUntilExit()
            for server in servers { #expect(await waitGone(server)) }
        }
    }
}
