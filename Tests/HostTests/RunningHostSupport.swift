import Foundation
import TestSupport
@testable import Host
#if canImport(Glibc)
import Glibc
#endif

/// A child process (the real `agenthub`, or a Python client) whose stdout lines and stderr are
/// collected on threads of their own; tests wait on them without blocking the cooperative pool.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var errText = ""
    private var lines: [String] = []
    private var consumed = 0

    init(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        Thread.detachNewThread { [self] in
            let handle = err.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock { errText += String(decoding: data, as: UTF8.self) }
            }
        }
        Thread.detachNewThread { [self] in
            let handle = out.fileHandleForReading
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    lock.withLock { lines.append(line) }
                }
            }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stderr: String { lock.withLock { errText } }

    func send(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    func closeInput() { try? input.fileHandleForWriting.close() }

    /// Waits (at most `timeout`) until stderr holds `needle`; returns stderr then, or nil.
    func waitForStderr(_ needle: String, timeout: Double = 60) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = stderr
            if text.contains(needle) { return text }
            if !process.isRunning { return stderr.contains(needle) ? stderr : nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The next stdout line not read yet (at most `timeout`).
    func nextLine(timeout: Double = 90) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let line: String? = lock.withLock {
                guard consumed < lines.count else { return nil }
                consumed += 1
                return lines[consumed - 1]
            }
            if let line { return line }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The next stdout line as a JSON object.
    func nextJSON(timeout: Double = 90) async -> [String: Any] {
        guard let line = await nextLine(timeout: timeout) else { return ["missing": true, "stderr": stderr] }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["unparsed": line]
    }

    /// Waits for the process to end (at most `timeout`); true when it did.
    func waitExit(timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return !process.isRunning
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// `agenthub serve` on a free port, started in `dir`.
func startServe(_ dir: String, _ extra: [String] = []) async throws -> (host: RunningProcess, port: Int) {
    var env = ProcessInfo.processInfo.environment
    env["AGENTHUB_BINARY"] = agenthubBinary()
    let host = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"] + extra, in: dir, environment: env)
    guard let text = await host.waitForStderr("listening on http://127.0.0.1:"),
          let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
          let port = Int(text[range].split(separator: ":").last ?? "") else {
        throw HTTPTestError("serve did not start: \(host.stderr)")
    }
    return (host, port)
}

struct HTTPTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One `GET` over a plain socket (no client library): the status and the body.
func httpGet(_ port: Int, _ path: String) async -> (status: Int, body: String)? {
    await onThread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return (status, String(text[head.upperBound...]))
    }
}

/// The JSON object a body holds.
func jsonObject(_ body: String?) -> [String: Any] {
    (body.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }) ?? [:]
}
