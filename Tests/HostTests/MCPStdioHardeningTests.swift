import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `agenthub mcp` against clients that close stdin at once, or never read stdout.
@Suite struct MCPStdioHardeningTests {
    static let manifest = """
        version: 1
        policy:
          default: deny
          rules:
            - allow: [read_file, list_files]
        roles:
          reader: {}
        plugins:
          file: { roots: [./files] }
        """

    func withWorkdir(_ body: (String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try write(String(repeating: "0123456789abcdef", count: 16_384), to: "files/big.txt", in: dir)
            try await body(dir)
        }
    }

    static func request(_ id: Int, _ method: String, _ params: String = "{}") -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\",\"params\":\(params)}\n"
    }

    @Test func everyRequestPipedBeforeEOFIsAnswered() async throws {
        try await withWorkdir { dir in
            let initialize = Self.request(1, "initialize", #"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe"}}"#)
            let input = initialize + Self.request(2, "tools/list") + Self.request(3, "resources/list") + Self.request(4, "prompts/list")
                + Self.request(5, "tools/call", #"{"name":"list_files","arguments":{}}"#)
            for attempt in 0..<30 {
                let result = try await run(agenthubBinary(), ["mcp", "--role", "reader", "--agent", "piper", "--no-sync"], in: dir, stdin: input)
                let ids = result.stdout.split(separator: "\n").compactMap { line -> Int? in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? Int
                }
                #expect(ids.sorted() == [1, 2, 3, 4, 5], "attempt \(attempt): \(ids) \(result.stderr.suffix(500))")
                #expect(result.status == 0)
            }
        }
    }

    @Test func aClientThatNeverReadsStdoutStopsTheServerReadingRequests() async throws {
        try await withWorkdir { dir in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: agenthubBinary())
            process.arguments = ["mcp", "--role", "reader", "--agent", "slow", "--no-sync"]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output  // never read
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }
            let written = Counter()
            signal(SIGPIPE, SIG_IGN)  // the server is killed while the writer may still be blocked
            let fd = input.fileHandleForWriting.fileDescriptor
            let padding = String(repeating: "p", count: 4000)
            @Sendable func send(_ text: String) -> Bool {
                let bytes = Array(text.utf8)
                var offset = 0
                while offset < bytes.count {
                    let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { return false }
                    offset += n
                }
                return true
            }
            Thread.detachNewThread {
                guard send(Self.request(1, "initialize", #"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x"}}"#)) else { return }
                for id in 2...5000 {
                    let params = "{\"name\":\"read_file\",\"arguments\":{\"path\":\"big.txt\"},\"_meta\":{\"pad\":\"\(padding)\"}}"
                    guard send(Self.request(id, "tools/call", params)) else { return }  // blocks once the server stops reading
                    written.increment()
                }
            }
            // A bounded server stops reading and the count levels off; an unbounded one reads all 4,999.
            // The bound: 64 requests in flight, 4 MiB of requests waiting for a slot (about 1,000 of
            // these 4 KB requests), 8 MiB of answers waiting for the client.
            var last = -1
            var still = 0
            for _ in 0..<600 where written.value < 4999 && still < 20 {
                try await Task.sleep(for: .milliseconds(100))
                let now = written.value
                still = now == last ? still + 1 : 0
                last = now
            }
            #expect(written.value < 1500, "the server kept reading: \(written.value) requests with large answers")
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            #expect(rss < 300_000, "resident set \(rss) kB")
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
