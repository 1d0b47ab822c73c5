import Foundation
import Glibc
import Testing
import TestSupport
@testable import Host

/// `sandbox:` on a bridged server: the real `bwrap` (Debian `bubblewrap`) around a Python-SDK server
/// that probes its view of the machine. It answers its tools, reads and writes only what it was
/// given, never sees the registry database (even inside a folder it may read), the user's home or
/// `/etc/shadow`, and reaches no address under `network: none`.
@Suite(.serialized) struct BridgeSandboxTests {
    static let probe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/sandbox_probe_server.py").path

    static func manifest(python: String, box: String = #"{ network: none, read: [".", ./out/kept], write: [./out] }"#) -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        policy:
          default: deny
          rules:
            - allow: ["box__*", "net__*"]
        roles:
          worker: {}
        plugins:
          mcp:
            startup_wait: 60s
            servers:
              box:
                command: \(python)
                args: [\(probe)]
                start_timeout: 60s
                sandbox: \(box)
              net:
                command: \(python)
                args: [\(probe)]
                start_timeout: 60s
                sandbox: { network: full }
        """
    }

    /// A TCP port on 127.0.0.1 that accepts connections while the test runs.
    static func listener() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: bound.sin_port)))
    }

    func text(_ result: [String: Any]) -> String {
        (result["content"] as? [[String: Any]])?.first?["text"] as? String ?? "\(result)"
    }

    @Test func aSandboxedServerAnswersButSeesOnlyWhatItWasGiven() async throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "`make test` installs bubblewrap")
        try await withTemporaryDirectory { home in
            try write("the user's secret\n", to: "secret.txt", in: home)
            try await withTemporaryDirectory { dir in
                try write(Self.manifest(python: python), to: "registry.yaml", in: dir)
                try write("shared notes\n", to: "shared/notes.txt", in: dir)
                try FileManager.default.createDirectory(atPath: dir + "/out/kept", withIntermediateDirectories: true)
                let (fd, port) = Self.listener()
                defer { close(fd) }
                let process = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", "ada", "--no-sync"], in: dir,
                                                 environment: ProcessInfo.processInfo.environment.merging(["HOME": home]) { $1 })
                let client = TasksTests.Client(process: process, tasks: false)
                defer { client.process.closeInput() }
                _ = await client.ready()
                // It answers, in a home of its own.
                let who = text(await client.call("box__whoami", [:]))
                #expect(who.contains("home=/tmp"), "\(who)")
                // What it was given: read (the manifest's folder), write (./out).
                #expect(text(await client.call("box__read", ["path": dir + "/shared/notes.txt"])) == "shared notes\n")
                #expect(text(await client.call("box__write", ["path": dir + "/out/made.txt", "text": "from the sandbox"])) == "written")
                #expect((try? String(contentsOfFile: dir + "/out/made.txt", encoding: .utf8)) == "from the sandbox")
                #expect(text(await client.call("box__write", ["path": dir + "/shared/notes.txt", "text": "x"])).hasPrefix("DENIED"), "a read path is read-only")
                #expect(text(await client.call("box__write", ["path": dir + "/out/kept/x.txt", "text": "x"])).hasPrefix("DENIED"), "a read path inside a write path stays read-only")
                // What it was not: the registry (inside its read folder), the user's home, /etc/shadow, the host's network.
                let registry = text(await client.call("box__read", ["path": dir + "/registry.db"]))
                #expect(registry.isEmpty || registry.hasPrefix("DENIED"), "the registry database leaked: \(registry.prefix(40))")
                #expect(FileManager.default.fileExists(atPath: dir + "/registry.db"), "the host has its registry")
                #expect(text(await client.call("box__read", ["path": home + "/secret.txt"])).hasPrefix("DENIED"))
                #expect(text(await client.call("box__read", ["path": "/etc/shadow"])).hasPrefix("DENIED"))
                #expect(text(await client.call("box__connect", ["host": "127.0.0.1", "port": port])).hasPrefix("DENIED"))
                // `network: full` reaches the host's loopback.
                #expect(text(await client.call("net__connect", ["host": "127.0.0.1", "port": port])) == "connected")
            }
        }
    }

    @Test func checkNamesASandboxThatCannotStart() async throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(python: python, box: #"{ read: [./nowhere] }"#), to: "registry.yaml", in: dir)
            try write(Self.manifest(python: python, box: #"{ read: ["/"] }"#), to: "registry.yaml", in: dir)
            let everything = try await run(agenthubBinary(), ["check"], in: dir)
            #expect(everything.status != 0 && everything.stderr.contains("names / (the whole machine"), "\(everything.stderr)")
            try write(Self.manifest(python: python, box: #"{ read: [./nowhere] }"#), to: "registry.yaml", in: dir)
            let missing = try await run(agenthubBinary(), ["check"], in: dir)
            #expect(missing.status != 0 && missing.stderr.contains("plugins.mcp.servers.box.sandbox.read:") && missing.stderr.contains("nowhere does not exist"),
                    "\(missing.stderr)")
            try write(Self.manifest(python: python), to: "registry.yaml", in: dir)
            try FileManager.default.createDirectory(atPath: dir + "/out/kept", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/empty-bin", withIntermediateDirectories: true)
            let noBwrap = try await run(agenthubBinary(), ["check"], in: dir, environment: ["PATH": dir + "/empty-bin"])
            #expect(noBwrap.status != 0 && noBwrap.stderr.contains("needs bubblewrap"), "\(noBwrap.stdout) \(noBwrap.stderr)")
        }
    }
}
