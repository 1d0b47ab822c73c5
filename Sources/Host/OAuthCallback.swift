import Base
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The address a browser comes back to after an OAuth login: `http://127.0.0.1:PORT/callback`, on
/// loopback only, for one login. It answers the browser with a short page and hands over the code
/// of the request whose `state` matches; anything else (a favicon, a stale tab) is answered and ignored.
public final class OAuthCallback: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    /// Listens on 127.0.0.1 (`port` 0: one the kernel picks).
    public init(port: Int = 0) throws(HostError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HostError(.keys, "cannot open a socket for the login callback: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HostError(.keys, "cannot listen on 127.0.0.1:\(port) for the login callback: \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    public var redirectURI: String { "http://127.0.0.1:\(port)/callback" }

    /// The authorization code of the callback whose `state` is `state`, or why there is none.
    public func code(state: String, timeout: Duration) async -> Result<String, HostError> {
        let fd = self.fd
        return await onThread {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let left = Int32(max(0, min(1000, (deadline - ContinuousClock.now).seconds * 1000)))
                guard poll(&poller, 1, left) > 0 else { continue }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { continue }
                defer { close(client) }
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                guard let target = Self.requestTarget(client), let parts = URLComponents(string: "http://127.0.0.1" + target) else { continue }
                let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
                guard parts.path == "/callback", query["state"] == state else {
                    Self.answer(client, 404, "Not the login this AgentHub waits for.")
                    continue
                }
                if let error = query["error"] {
                    let detail = query["error_description"].map { ": " + Redaction.text($0).utf8Prefix(200) } ?? ""
                    Self.answer(client, 400, "The login was refused. You can close this page.")
                    return .failure(HostError(.keys, "the authorization server refused the login (\(error.utf8Prefix(60)))\(detail)"))
                }
                guard let code = query["code"], !code.isEmpty else {
                    Self.answer(client, 400, "The callback carried no code.")
                    continue
                }
                Self.answer(client, 200, "Logged in. You can close this page and go back to the terminal.")
                return .success(code)
            }
            return .failure(HostError(.keys, "no login came back within \(timeout.seconds.formatted()) s (the browser never reached \(self.redirectURI))"))
        }
    }

    /// The target of a request's first line (`GET /callback?code=... HTTP/1.1`), read within 8 KiB.
    private static func requestTarget(_ client: Int32) -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while bytes.count < 8192, !bytes.contains(0x0A) {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        guard let end = bytes.firstIndex(of: 0x0A) else { return nil }
        let words = String(decoding: bytes[..<end], as: UTF8.self).split(separator: " ")
        guard words.count >= 2, words[0] == "GET" else { return nil }
        return String(words[1])
    }

    private static func answer(_ client: Int32, _ status: Int, _ text: String) {
        let body = "<!doctype html><meta charset=utf-8><title>AgentHub</title><p>\(text)</p>"
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found"][status] ?? "OK"
        let response = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        _ = response.utf8CString.withUnsafeBufferPointer { write(client, $0.baseAddress, response.utf8.count) }
    }
}
