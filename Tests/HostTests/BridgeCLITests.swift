import Foundation
import TestSupport
import Testing

/// The bridge from the command line: `tools list` marks a changed definition, `tools accept` takes it.
@Suite(.serialized) struct BridgeCLITests {
    @Test func aChangedDefinitionIsMarkedByToolsListAndAcceptedByToolsAccept() async throws {
        let python = try #require(testPython())
        try await withTemporaryDirectory { dir in
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
                      t:
                        command: \(python)
                        args: [\(bridgeTestServer)]
                        env: { TOOL_DESCRIPTION: "${DESC}" }
                        start_timeout: 90s   # Python starts slowly while the whole suite runs
                """, to: "registry.yaml", in: dir)
            func agenthub(_ args: [String], desc: String) async throws -> (status: Int32, stdout: String, stderr: String) {
                try await run("/usr/bin/env", ["DESC=\(desc)", agenthubBinary()] + args, in: dir)
            }
            let first = try await agenthub(["tools", "call", "t__echo", "--role", "worker", "--args", #"{"text":"one"}"#], desc: "Echo.")
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("one"))
            // The same tool with another description: marked, still callable (pin: warn).
            let listed = try await agenthub(["tools", "list", "--role", "worker"], desc: "Now something else.")
            #expect(listed.stdout.contains("t__echo"))
            #expect(listed.stdout.contains("[definition changed since first seen]"), "\(listed.stdout)")
            let second = try await agenthub(["tools", "call", "t__echo", "--role", "worker", "--args", #"{"text":"two"}"#], desc: "Now something else.")
            #expect(second.status == 0)
            let accepted = try await agenthub(["tools", "accept", "t__echo"], desc: "Now something else.")
            #expect(accepted.status == 0)
            #expect(accepted.stdout.contains("accepted: t__echo"))
            let relisted = try await agenthub(["tools", "list", "--role", "worker"], desc: "Now something else.")
            #expect(!relisted.stdout.contains("[definition changed"))
            let unknown = try await agenthub(["tools", "accept", "nope__tool"], desc: "x")
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no bridged tool or server named 'nope__tool'"))
        }
    }
}
