import Base
import Foundation
import TestSupport
@testable import Host
#if canImport(Glibc)
import Glibc
#endif

/// A child process (the real `agenthub`, or a Python client) whose stdout lines and stderr are
/// collected on threads of their own; tests wait on them without blocking the cooperative pool.
final class RunningProcess: @unchecked Sendable {
    /// What the reading threads collect. They hold this, never the `RunningProcess`: a test that drops
    /// its process lets it go, and `deinit` kills the child (a thread holding `self` kept every
    /// `agenthub serve` of the suite alive until the runner exited).
    final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var errText = ""
        var lines: [String] = []
    }

    let process = Process()
    private let input = Pipe()
    private let collected = Collected()
    private var lock: NSLock { collected.lock }
    private var consumed = 0
    private var lines: [String] { collected.lines }

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
        let collected = self.collected
        Thread.detachNewThread {
            let handle = err.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                collected.lock.withLock { collected.errText += String(decoding: data, as: UTF8.self) }
            }
        }
        Thread.detachNewThread {
            let handle = out.fileHandleForReading
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    collected.lock.withLock { collected.lines.append(line) }
                }
            }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stderr: String { lock.withLock { collected.errText } }

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

/// An HTTP answer as the tests read it (header names lowercased).
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String
    var json: [String: Any] { jsonObject(body) }
}

/// One `GET` over a plain socket (no client library): the status and the body.
func httpGet(_ port: Int, _ path: String) async -> (status: Int, body: String)? {
    await http(port, "GET", path).map { ($0.status, $0.body) }
}

/// One request over a plain socket (HTTP/1.1, `Connection: close`): what came back, or nil when the
/// connection failed. `timeout` bounds each read.
func http(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil,
          timeout: Double = 60) async -> HTTPAnswer? {
    await onThread {
        guard let fd = connectLocal(port, timeout: timeout) else { return nil }
        defer { close(fd) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body {
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { request += "Content-Type: application/json\r\n" }
            request += "Content-Length: \(body.utf8.count)\r\n"
        }
        request += "\r\n" + (body ?? "")
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return parseHTTP(response)
    }
}

/// A TCP connection to 127.0.0.1:`port` whose reads time out after `timeout` seconds.
func connectLocal(_ port: Int, timeout: Double) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { close(fd); return nil }
    var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Status, headers and body of a raw HTTP/1.1 response (chunked bodies joined).
func parseHTTP(_ response: [UInt8]) -> HTTPAnswer? {
    let text = String(decoding: response, as: UTF8.self)
    guard let head = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
    var headers: [String: String] = [:]
    for line in text[..<head.lowerBound].split(separator: "\r\n").dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        // A repeated header (Set-Cookie) keeps every value, one per line.
        headers[name] = headers[name].map { $0 + "\n" + value } ?? value
    }
    var body = String(text[head.upperBound...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
    return HTTPAnswer(status: status, headers: headers, body: body)
}

func dechunk(_ text: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let lineEnd = rest.range(of: "\r\n") {
        guard let size = Int(rest[..<lineEnd.lowerBound].split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
        let start = lineEnd.upperBound
        let bytes = Array(rest[start...].utf8)
        guard bytes.count >= size else { out += String(decoding: bytes, as: UTF8.self); break }
        out += String(decoding: bytes[0..<size], as: UTF8.self)
        rest = Substring(String(decoding: bytes[size...], as: UTF8.self)).dropFirst(2)
    }
    return out
}

/// The JSON object a body holds.
func jsonObject(_ body: String?) -> [String: Any] {
    (body.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }) ?? [:]
}

/// A Server-Sent Events stream read over a plain socket, one event at a time.
final class SSEStream: @unchecked Sendable {
    struct Event: Sendable {
        var id: String?
        var event: String?
        var data: String
    }

    let fd: Int32
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private var raw: [UInt8] = []
    private var text = ""
    private var headDone = false
    /// Comments (`: keep-alive`) seen so far.
    private(set) var comments = 0
    /// Whether the stream ended (EOF, or the last chunk).
    private(set) var atEnd = false

    /// Opens `GET path` (or `method` with a JSON `body`) with `headers`; nil when the connection fails.
    init?(_ port: Int, _ path: String, method: String = "GET", headers: [String: String], body: String? = nil) {
        guard let fd = connectLocal(port, timeout: 1) else { return nil }
        self.fd = fd
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        if headers["Accept"] == nil { request += "Accept: text/event-stream\r\n" }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    deinit { close(fd) }

    /// Reads until the response head is in (the status and headers); false on timeout or EOF.
    func head(timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !headDone, Date() < deadline { if !fill() { break } }
        return headDone
    }

    /// The next event, or nil when none came within `timeout` (or the stream ended).
    func next(timeout: Double = 30) -> Event? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            while let end = text.range(of: "\n\n") {
                let block = String(text[..<end.lowerBound])
                text = String(text[end.upperBound...])
                var event = Event(data: "")
                var data: [String] = []
                var isComment = true
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") { continue }
                    isComment = false
                    if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                    else if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)) }
                    else if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
                }
                if isComment || data.isEmpty { comments += isComment ? 1 : 0; continue }
                event.data = data.joined(separator: "\n")
                return event
            }
            guard Date() < deadline else { return nil }
            // The last events may arrive with the stream's end: parse them before saying it ended.
            if !fill(), text.range(of: "\n\n") == nil { return nil }
        }
    }

    /// Reads what arrived (at most 1 s); false at EOF or error other than a timeout.
    private func fill() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        if count == 0 { atEnd = true; return false }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { return true }
            atEnd = true
            return false
        }
        raw += buffer[0..<count]
        if !headDone {
            guard let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) else { return true }
            let head = parseHTTP(Array(raw[..<end.upperBound]))
            status = head?.status ?? 0
            headers = head?.headers ?? [:]
            raw.removeSubrange(..<end.upperBound)
            headDone = true
        }
        // Chunked framing: SIZE\r\nDATA\r\n ...
        while let lineEnd = raw.firstRange(of: Array("\r\n".utf8)) {
            guard let size = Int(String(decoding: raw[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) else { break }
            if size == 0 { atEnd = true; return false }
            let start = lineEnd.upperBound
            guard raw.count >= start + size + 2 else { break }
            text += String(decoding: raw[start..<(start + size)], as: UTF8.self)
            raw.removeSubrange(..<(start + size + 2))
        }
        return true
    }
}
