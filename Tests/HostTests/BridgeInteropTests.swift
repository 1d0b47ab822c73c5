import Base
import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// Real MCP servers from PyPI behind the bridge: `mcp-server-time` and `mcp-server-git`.
@Suite(.serialized) struct BridgeInteropTests {
    @Test func mcpServerTimeAnswersThroughTheBridge() async throws {
        let python = try #require(testPython(), "the test virtualenv (make test) has mcp-server-time")
        try await withTemporaryDirectory { dir in
            let host = try await BridgeHost.start(dir, servers: """
                      time:
                        command: \(python)
                        args: [-m, mcp_server_time]
                        start_timeout: 90s   # Python imports slowly while the whole suite runs
                        env: { TZ: UTC }
                        risk: low
                """)
            #expect(host.status("time")?.state == .ready)
            let names = Set(host.router.tools(for: worker).map(\.descriptor.name))
            #expect(names.isSuperset(of: ["time__get_current_time", "time__convert_time"]))
            let descriptor = try #require(host.router.descriptor(named: "time__get_current_time"))
            #expect(descriptor.annotations.readOnlyHint == true)
            #expect(descriptor.outputSchema != nil)
            let outcome = await host.call("time__get_current_time", ["timezone": "Asia/Tokyo"])
            #expect(outcome.status == .succeeded)
            #expect(outcome.result.structuredContent?["timezone"] == "Asia/Tokyo")
            let bad = await host.call("time__get_current_time", ["timezone": "Not/AZone"])
            #expect(bad.status == .failed)
            #expect(bad.result.isError)
            // Every call is traced like a built-in one.
            await host.router.recorder.flush()
            let events = try host.registry.traceEvents(TraceQuery(session: "bridge-test"))
            #expect(events.contains { $0.tool == "time__get_current_time" && $0.type == "tool.result" })
            await host.stop()
        }
    }

    @Test func mcpServerGitReadsATemporaryRepository() async throws {
        let python = try #require(testPython())
        try await withTemporaryDirectory { dir in
            let repo = dir + "/repo"
            try write("hello\n", to: "repo/README.md", in: dir)
            for args in [["init", "-q", "-b", "main", repo], ["-C", repo, "add", "README.md"],
                         ["-C", repo, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first commit"]] {
                #expect(try await run("/usr/bin/git", args).status == 0)
            }
            let host = try await BridgeHost.start(dir, servers: """
                      git:
                        command: \(python)
                        args: [-m, mcp_server_git, --repository, \(repo)]
                        start_timeout: 90s
                        tools: [git_status, git_log]
                """, rules: "    - allow: [git__git_status, git__git_log]")
            let names = host.router.tools(for: worker).map(\.descriptor.name).sorted()
            #expect(names == ["git__git_log", "git__git_status"])
            let log = await host.call("git__git_log", ["repo_path": .string(repo)])
            #expect(log.status == .succeeded, "\(log.result.text)")
            #expect(log.result.text.contains("first commit"))
            // A tool left out by `tools:` does not exist.
            #expect(await host.call("git__git_commit", ["repo_path": .string(repo), "message": "x"]).status == .blocked)
            await host.stop()
        }
    }
}
