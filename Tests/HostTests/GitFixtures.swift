import Base
import Foundation
import GitSync
import Logging
import Registry
import TestSupport
@testable import Host
#if canImport(Glibc)
import Glibc
#endif

/// A working repository and the bare "remote" it pushes to, driven by the git CLI.
struct GitRemoteFixture {
    let root: String
    var work: String { root + "/work" }
    var remote: String { root + "/remote.git" }

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.git(["init", "-q", "-b", "main", "work"], in: root)
        try Self.git(["init", "-q", "--bare", "-b", "main", "remote.git"], in: root)
    }

    @discardableResult
    static func git(_ arguments: [String], in directory: String) throws -> String {
        let result = try run(gitExecutable, ["-c", "user.name=Test", "-c", "user.email=test@example.com",
                                              "-c", "protocol.file.allow=always"] + arguments, in: directory)
        guard result.status == 0 else { throw FixtureError("git \(arguments.joined(separator: " ")): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    func git(_ arguments: [String]) throws -> String { try Self.git(arguments, in: work) }

    func skill(_ path: String, name: String? = nil, description: String = "A skill for tests.", body: String = "Do the thing.") throws {
        let skillName = name ?? PathText.lastComponent(path)
        try write("---\nname: \(skillName)\ndescription: \(description)\n---\n\(body)\n", to: path + "/SKILL.md", in: work)
    }

    func file(_ path: String, _ text: String) throws { try write(text, to: path, in: work) }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: work + "/" + path) }

    /// Commits everything and pushes `main` (forced) to the remote; returns the commit id.
    @discardableResult
    func commitAndPush(_ message: String = "change", branch: String = "main") throws -> String {
        try git(["add", "-A"])
        try git(["commit", "-q", "--allow-empty", "-m", message])
        try git(["push", "-q", "-f", remote, "HEAD:refs/heads/\(branch)"])
        return try git(["rev-parse", "HEAD"])
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A server process the test started; stopped by its pid.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int

    init(_ executable: String, _ arguments: [String], port: Int? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = port == nil ? out : FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let port {
            self.port = port
            try Self.waitForListener(port)
        } else {
            // The server prints "PORT <n>" once it listens.
            var line = Data()
            while !line.contains(0x0A) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let value = text.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
                process.terminate()
                throw FixtureError("\(executable) did not say its port: \(text)")
            }
            self.port = value
        }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func waitForListener(_ port: Int) throws {
        for _ in 0..<200 {
            if connectable(port) { return }
            usleep(20_000)
        }
        throw FixtureError("nothing listens on 127.0.0.1:\(port)")
    }

    static func connectable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nothing listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `git daemon` exporting every repository under `base`.
    static func gitDaemon(base: String) throws -> ServerProcess {
        let port = freePort()
        // git-daemon itself, not the `git daemon` wrapper: the wrapper spawns it as a child that a
        // kill of the wrapper would orphan.
        let execPath = try GitRemoteFixture.git(["--exec-path"], in: base)
        return try ServerProcess(execPath + "/git-daemon", ["--reuseaddr", "--export-all", "--listen=127.0.0.1", "--port=\(port)",
                                                  "--base-path=\(base)", base], port: port)
    }

    /// Smart HTTP (`git http-backend`) behind the test CGI server; `user` turns on basic auth with the
    /// password in `passwordFile` (re-read per request). `silent` accepts and never answers.
    static func gitHTTP(root: String, user: String? = nil, passwordFile: String? = nil, delay: Double = 0,
                        stats: String? = nil, silent: Bool = false, tls: (cert: String, key: String)? = nil,
                        delayFile: String? = nil) throws -> ServerProcess {
        var arguments = [packageRoot + "/Tests/Interop/git_http_server.py", "--root", root]
        if let delayFile { arguments += ["--delay-file", delayFile] }
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        if let user, let passwordFile { arguments += ["--user", user, "--password-file", passwordFile] }
        if delay > 0 { arguments += ["--delay", "\(delay)"] }
        if let stats { arguments += ["--stats", stats] }
        if silent { arguments.append("--silent") }
        return try ServerProcess(testPython() ?? "/usr/bin/python3", arguments)
    }
}

/// A manifest with one git source, opened with the real `agenthub` binary as the fetch worker.
func gitContext(root: String, url: String, extra: String = "", sync: String = "", environment: [String: String] = [:]) throws -> HostContext {
    let manifest = """
        version: 1
        host:
          database: state/registry.db
          cache: state/cache
        sync:
          timeout: 20s
        \(sync)
        sources:
          - name: team
            git: \(url)
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    try write(manifest, to: "registry.yaml", in: root)
    var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    env["AGENTHUB_BINARY"] = agenthubBinary()
    return try HostContext.open(configPath: root + "/registry.yaml", logger: Logger(label: "test"), environment: env)
}

extension SourceSyncer {
    /// Syncs the source `team` on a thread of its own (the fetch blocks while the worker runs).
    func syncTeam(force: Bool = true, acceptRemovals: Bool = false) async -> SourceSyncResult {
        let syncer = self
        return await onThread { syncer.sync(syncer.manifest.source(named: "team")!, acceptRemovals: acceptRemovals, force: force) }
    }
}

/// Whether a process with this pid still exists (zombies included).
func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

/// The pids of the fetch workers a syncer started.
final class WorkerLog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [Int32] = []
    var pids: [Int32] { lock.lock(); defer { lock.unlock() }; return started }
    var record: @Sendable (Int32) -> Void { { [self] pid in lock.lock(); started.append(pid); lock.unlock() } }
}

/// The git CLI, wherever PATH has it.
let gitExecutable: String = {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let path = "\(directory)/git"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return "/usr/bin/git"
}()

/// A private certificate authority and a server certificate it signed for 127.0.0.1, made with the
/// openssl CLI. No subjectAltName: libgit2 1.5.1's mbedTLS matches an IP only against the CN.
func makePrivateCA(in directory: String) async throws -> (ca: String, cert: String, key: String) {
    let steps: [[String]] = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=AgentHub Test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2"],
    ]
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for step in steps {
        let result = try await run("/usr/bin/env", ["openssl"] + step, in: directory)
        guard result.status == 0 else { throw FixtureError("openssl \(step[0]): \(result.stderr)") }
    }
    return (directory + "/ca.pem", directory + "/server.pem", directory + "/server.key")
}
