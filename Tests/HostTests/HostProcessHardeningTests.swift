import Foundation
import TestSupport
import Testing
@testable import Host

/// What a bridged server (or any process beside the host) can learn or break: the host's
/// environment through /proc, and the signals it hands its children.
@Suite(.serialized) struct HostProcessHardeningTests {
    static let secret = "a-secret-key-from-the-environment-0123456789"

    static func spyingHost(_ dir: String) async throws -> APIHost {
        let bridged = """
              mcp:
                servers:
            \(BridgeHost.testServer("spy", extra: "        env: { SERVER_API_TOKEN: \"${SOME_API_TOKEN:-none}\" }"))
            """
        let manifest = APIHost.manifest(http: bridged, extraAgents: "  spied: { role: researcher, key_env: SPIED_KEY }")
            .replacingOccurrences(of: "read_file]", with: "read_file, spy__parent_environ, spy__signal_masks, spy__env]")
        return try await APIHost.start(dir, manifest: manifest, environment: ["SPIED_KEY": secret, "SOME_API_TOKEN": "another-secret-value-42"])
    }

    /// Calls a spy tool as `writer`, retrying while the bridged server is still starting.
    static func callOnceReady(_ api: APIHost, _ tool: String) async throws -> HTTPAnswer {
        var answer = HTTPAnswer(status: 0, headers: [:], body: "")
        for _ in 0..<100 {
            answer = await api.call("POST", "/v1/tools/\(tool)/call", as: "writer", body: #"{"arguments": {}}"#)
            if answer.status == 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return answer
    }

    @Test func aBridgedServerReadingTheHostsEnvironmentFindsNoKey() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await Self.spyingHost(dir)
            let answer = try await Self.callOnceReady(api, "spy__parent_environ")
            #expect(answer.status == 200, "\(answer.body)")
            #expect(!answer.body.contains(Self.secret) && !answer.body.contains("another-secret-value-42"), "\(answer.body.prefix(2000))")
            // Read directly too (as the same user could, were the process dumpable).
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(api.host.process.processIdentifier)/environ"))) ?? Data()
            #expect(!String(decoding: environ, as: UTF8.self).contains(Self.secret))
            // A secret the manifest hands a server in its `env:` still reaches it (the shim does not scrub).
            let names = await api.call("POST", "/v1/tools/spy__env/call", as: "writer", body: #"{"arguments": {}}"#)
            #expect(names.body.contains("SERVER_API_TOKEN"), "\(names.body.prefix(1000))")
            // The host still knows the key: the agent it names signs in with it.
            let signedIn = await api.call("GET", "/v1/tools", as: nil, headers: ["Authorization": "Bearer \(Self.secret)"])
            #expect(signedIn.status == 200, "\(signedIn.body)")
        }
    }

    @Test func aBridgedServerStartsWithNoSignalBlockedOrIgnoredByTheHost() async throws {
        try await withTemporaryDirectory { dir in
            let api = try await Self.spyingHost(dir)
            let answer = try await Self.callOnceReady(api, "spy__signal_masks")
            let text = (answer.json["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            func mask(_ name: String) -> UInt64? {
                guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
                return UInt64(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces), radix: 16)
            }
            #expect(mask("SigBlk") == 0, "\(text)")
            let ignored = try #require(mask("SigIgn"), "\(text)")
            for signal in [SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2] {
                #expect(ignored & (UInt64(1) << UInt64(signal - 1)) == 0, "signal \(signal) ignored: \(text)")
            }
        }
    }
}
