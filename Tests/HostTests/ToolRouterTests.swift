import Base
import Foundation
import Plugins
import Registry
import Testing
@testable import Host

/// The router: policy at call time, argument validation, timeouts, the concurrency limit,
/// cancellation, failures as results, and the trace every call leaves.
@Suite struct ToolRouterTests {
    @Test func aDeniedToolAndAnUnknownToolGetTheSameAnswer() async throws {
        try await withTemporaryDirectory { dir in
            let (router, _) = try probeRouter(dir)
            let denied = await router.call("danger", arguments: nil, caller: worker, session: "s")
            let unknown = await router.call("no_such_tool", arguments: nil, caller: worker, session: "s")
            #expect(denied.result.text.replacingOccurrences(of: "danger", with: "NAME")
                    == unknown.result.text.replacingOccurrences(of: "no_such_tool", with: "NAME"))
            #expect(denied.result.isError && unknown.result.isError && denied.result.structuredContent == nil && unknown.result.structuredContent == nil)
            #expect(denied.status == .blocked && unknown.status == .blocked)
            let names = router.tools(for: worker).map(\.descriptor.name)
            #expect(!names.contains("danger") && names.contains("echo"))
        }
    }

    @Test func invalidArgumentsAreAnErrorResultNamingTheField() async throws {
        try await withTemporaryDirectory { dir in
            let (router, _) = try probeRouter(dir)
            let outcome = await router.call("sleep", arguments: ["ms": "soon"], caller: worker, session: "s")
            #expect(outcome.status == .failed && outcome.reason == "invalid_arguments")
            #expect(outcome.result.text == "Invalid arguments for sleep: ms: expected an integer, got \"soon\"")
            let notObject = await router.call("sleep", arguments: [1, 2], caller: worker, session: "s")
            #expect(notObject.result.text == "Invalid arguments for sleep: arguments: expected an object, got array")
        }
    }

    @Test func aCallPastItsTimeoutIsCancelledAndAnsweredAsATimeout() async throws {
        try await withTemporaryDirectory { dir in
            var settings = ToolRouter.Settings()
            settings.timeout = .milliseconds(200)
            let (router, _) = try probeRouter(dir, settings: settings)
            let polite = await router.call("sleep", arguments: ["ms": 60_000], caller: worker, session: "s")
            #expect(polite.status == .failed && polite.reason == "timeout")
            #expect(polite.result.text.contains("did not finish within"))
            // A plugin that ignores cancellation still gets its caller an answer at the deadline.
            // (It would run for a minute: on a loaded machine the 200 ms deadline may fire late, never that late.)
            let stubborn = await router.call("stubborn", arguments: ["ms": 60_000], caller: worker, session: "s")
            #expect(stubborn.reason == "timeout")
        }
    }

    @Test func noMoreThanTheLimitRunAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            var settings = ToolRouter.Settings()
            settings.maxConcurrent = 2
            let plugin = ProbePlugin()
            let (router, _) = try probeRouter(dir, settings: settings, plugin: plugin)
            let outcomes = await withTaskGroup(of: ToolCallOutcome.self) { group in
                for _ in 0..<8 { group.addTask { await router.call("sleep", arguments: ["ms": 50], caller: worker, session: "s") } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0.status == .succeeded })
            #expect(plugin.gauge.maximum == 2)
        }
    }

    @Test func aCallThatFindsNoSlotBeforeItsTimeoutIsAnsweredBusy() async throws {
        try await withTemporaryDirectory { dir in
            var settings = ToolRouter.Settings()
            settings.maxConcurrent = 1
            settings.timeout = .milliseconds(300)
            let plugin = ProbePlugin()
            let (router, _) = try probeRouter(dir, settings: settings, plugin: plugin)
            async let hog = router.call("stubborn", arguments: ["ms": 20000], caller: worker, session: "s")
            // Wait until the hog holds the only slot (the machine may be busy: no fixed sleep).
            for _ in 0..<1000 where plugin.gauge.maximum == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let waiting = await router.call("echo", arguments: [:], caller: worker, session: "s")
            #expect(waiting.reason == "busy" && waiting.result.text.contains("router.max_concurrent"), "\(waiting)")
            _ = await hog
        }
    }

    @Test func pluginCallsThatBlockTheirThreadDoNotHoldUpOtherCalls() async throws {
        try await withTemporaryDirectory { dir in
            let plugin = ProbePlugin()
            let (router, _) = try probeRouter(dir, plugin: plugin)
            // More blocked calls than the cooperative pool has threads (two on these machines). They
            // block far longer than the test needs (other suites share the pool), and are left to end
            // on their own threads.
            for _ in 0..<4 {
                Task { _ = await router.call("block", arguments: ["ms": 30_000], caller: worker, session: "s") }
            }
            for _ in 0..<5000 where plugin.gauge.maximum < 4 { try await Task.sleep(for: .milliseconds(5)) }
            let echo = await router.call("echo", arguments: ["text": "still here"], caller: worker, session: "s")
            #expect(echo.status == .succeeded)
            #expect(plugin.gauge.current == 4, "the echo waited for the blocked calls to end")
        }
    }

    @Test func cancellingTheCallerCancelsThePluginCall() async throws {
        try await withTemporaryDirectory { dir in
            let (router, _) = try probeRouter(dir)
            let task = Task { await router.call("sleep", arguments: ["ms": 60_000], caller: worker, session: "s") }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let outcome = await task.value
            #expect(outcome.status == .failed && outcome.reason == "cancelled")
        }
    }

    @Test func anUnexpectedPluginErrorBecomesAnErrorResult() async throws {
        try await withTemporaryDirectory { dir in
            let (router, _) = try probeRouter(dir)
            let outcome = await router.call("crash", arguments: [:], caller: worker, session: "s")
            #expect(outcome.status == .failed && outcome.result.isError && outcome.result.text == "crash failed: disk on fire")
        }
    }

    @Test func everyCallLeavesACalledAndAnEndingEventWithSizesAndDuration() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry) = try probeRouter(dir)
            let ok = await router.call("echo", arguments: ["text": "hi"], caller: ToolCaller(agent: "a", role: "worker"), session: "trace-1")
            _ = await router.call("danger", arguments: [:], caller: worker, session: "trace-1")
            _ = await router.call("sleep", arguments: ["ms": "x"], caller: worker, session: "trace-1")
            await router.recorder.flush()
            let events = try registry.traceEvents(TraceQuery(session: "trace-1"))
            #expect(events.map(\.type) == ["tool.called", "tool.result", "tool.called", "tool.blocked", "tool.called", "tool.failed"])
            #expect(events[0].spanId == ok.spanId && events[1].spanId == ok.spanId)
            #expect(events[0].argumentBytes == 13 && events[0].decision == "allow" && events[0].role == "worker")
            #expect(events[1].resultBytes == ok.result.byteCount && (events[1].durationMs ?? -1) >= 0)
            #expect(events[3].detail?["reason"]?.stringValue?.contains("denied by policy.rules") == true)
            #expect(events[5].detail?["error"] == "invalid_arguments")
        }
    }

    @Test func secretsNeverReachTheTraceAndLongArgumentsAreCut() async throws {
        try await withTemporaryDirectory { dir in
            var settings = ToolRouter.Settings()
            settings.maxTraceArgumentBytes = 300
            let (router, registry) = try probeRouter(dir, settings: settings)
            let secrets: JSONValue = [
                "token": "t0k3n-value", "password": "hunter2", "headers": ["Authorization": "Basic dXNlcjpwYXNz"],
                "config": ["api_key": "k-123", "apiKey": "k-456", "client-secret": "s-789"],
                "note": "Bearer abcdefghijklmnopqrstuvwxyz", "github": "ghp_abcdefghijklmnopqrstuvwxyz0123",
                "author": "kept",
            ]
            _ = await router.call("echo", arguments: secrets, caller: worker, session: "secrets")
            _ = await router.call("echo", arguments: ["text": .string(String(repeating: "x", count: 5000))], caller: worker, session: "long")
            await router.recorder.flush()
            let stored = try registry.traceEvents(TraceQuery(session: "secrets")).map { $0.detail?.jsonText ?? "" }.joined()
            for secret in ["t0k3n-value", "hunter2", "dXNlcjpwYXNz", "k-123", "k-456", "s-789", "abcdefghijklmnop"] {
                #expect(!stored.contains(secret), "\(secret) reached the trace")
            }
            #expect(stored.contains("\"author\":\"kept\""))
            let long = try registry.traceEvents(TraceQuery(session: "long"))[0]
            #expect(long.detail?["arguments"]?["truncated"] == true)
            #expect(long.argumentBytes == 5011)
            #expect((long.detail?.jsonText.utf8.count ?? 0) < 600)
        }
    }

    @Test func permissiveModeRunsWhatEnforceWouldBlockAndSaysSoInTheTrace() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = probeManifest.replacingOccurrences(of: "  default: deny", with: "  mode: permissive\n  default: deny")
            let (router, registry) = try probeRouter(dir, manifest: manifest)
            let outcome = await router.call("danger", arguments: [:], caller: worker, session: "p")
            #expect(outcome.status == .succeeded)
            await router.recorder.flush()
            let events = try registry.traceEvents(TraceQuery(session: "p"))
            #expect(events[0].decision == "deny")
            #expect(events[1].type == "tool.result" && events[1].detail?["would_block"] == true)
        }
    }

    @Test func twoPluginsCannotOfferTheSameToolName() throws {
        try withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/r.db")
            let manifest = try ManifestLoader.parse(probeManifest, file: "registry.yaml", environment: [:])
            #expect { try ToolRouter(plugins: [ProbePlugin(), ProbePlugin()], policy: PolicyEngine(manifest: manifest),
                                     recorder: TraceRecorder(registry: registry, logger: .init(label: "t")), logger: .init(label: "t"),
                                     permissions: { _ in UnrestrictedPermissions() }) } throws: { error in
                (error as? HostError)?.message == "plugins probe and probe both offer a tool named 'echo'"
            }
        }
    }

    @Test func callersAreCheckedAgainstTheManifest() throws {
        let manifest = try ManifestLoader.parse("""
            version: 1
            roles: { researcher: {}, editor: {} }
            groups: { writers: { members: [researcher, editor], lead: editor } }
            agents: { bot: { role: researcher, group: writers } }
            """, file: "registry.yaml", environment: [:])
        let identity = CallerIdentity(manifest: manifest)
        #expect(try identity.caller(agent: "bot", role: nil, group: nil) == ToolCaller(agent: "bot", role: "researcher", group: "writers"))
        #expect(try identity.caller(agent: "x", role: "editor", group: "writers").isGroupLead)
        #expect { try identity.caller(agent: "x", role: "reseacher", group: nil) } throws: { error in
            (error as? HostError)?.message.contains("did you mean 'researcher'") == true
        }
        #expect(throws: HostError.self) { try identity.caller(agent: "x", role: nil, group: "writers") }
        #expect(throws: HostError.self) { try identity.caller(agent: "x", role: "researcher", group: "readers") }
    }
}
