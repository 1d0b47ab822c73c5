import Base
import Dispatch
import Foundation
import Logging
import Plugins
import Registry
@testable import Host

/// A plugin whose tools do what a test needs: echo, sleep (honouring cancellation or not), throw.
struct ProbePlugin: ToolPlugin {
    let name = "probe"
    let gauge = ConcurrencyGauge()

    var tools: [ToolDescriptor] {
        [
            ToolDescriptor(name: "echo", title: "Echo", description: "Returns its arguments.",
                           inputSchema: ["type": "object", "properties": ["text": ["type": "string"]], "additionalProperties": true]),
            ToolDescriptor(name: "sleep", title: "Sleep", description: "Sleeps, honouring cancellation.",
                           inputSchema: Schema.object(["ms": Schema.integer("ms", minimum: 0)], required: ["ms"])),
            ToolDescriptor(name: "stubborn", title: "Stubborn", description: "Busy-waits, ignoring cancellation.",
                           inputSchema: Schema.object(["ms": Schema.integer("ms", minimum: 0)], required: ["ms"])),
            ToolDescriptor(name: "crash", title: "Crash", description: "Throws an unexpected error.", inputSchema: Schema.object([:])),
            ToolDescriptor(name: "block", title: "Block", description: "Blocks its thread, as SQLite and file calls do.",
                           inputSchema: Schema.object(["ms": Schema.integer("ms", minimum: 0)], required: ["ms"])),
            ToolDescriptor(name: "danger", title: "Danger", description: "Denied by policy.", inputSchema: Schema.object([:])),
            ToolDescriptor(name: "approve_me", title: "Approve me", description: "Needs approval.",
                           inputSchema: Schema.object(["x": Schema.integer("x"), "n": Schema.integer("n")])),
        ]
    }

    struct Unexpected: Error, CustomStringConvertible { var description: String { "disk on fire" } }

    func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        gauge.enter()
        defer { gauge.leave() }
        switch tool {
        case "echo", "danger", "approve_me":
            return .structured(.object(arguments))
        case "sleep":
            try await Task.sleep(for: .milliseconds(arguments["ms"]?.intValue ?? 0))
            return .text("slept")
        case "block":
            usleep(UInt32(arguments["ms"]?.intValue ?? 0) * 1000)
            return .text("unblocked")
        case "stubborn":
            // Waits without honouring cancellation (and without blocking a thread of the pool).
            let ms = arguments["ms"]?.intValue ?? 0
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { done.resume() }
            }
            return .text("done")
        default:
            throw Unexpected()
        }
    }
}

/// Counts calls in flight and remembers the most at once.
final class ConcurrencyGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private(set) var peak = 0
    func enter() { lock.withLock { count += 1; peak = max(peak, count) } }
    func leave() { lock.withLock { count -= 1 } }
    var maximum: Int { lock.withLock { peak } }
    var current: Int { lock.withLock { count } }
}

let probeManifest = """
    version: 1
    policy:
      default: deny
      rules:
        - allow: [echo, sleep, stubborn, crash, block]
        - ask: [approve_me]
        - deny: [danger]
    roles:
      worker: {}
    """

/// A router over `ProbePlugin` with a registry in `dir`.
func probeRouter(_ dir: String, manifest: String = probeManifest, settings: ToolRouter.Settings = .init(),
                 plugin: ProbePlugin = ProbePlugin()) throws -> (ToolRouter, RegistryDatabase) {
    let registry = try RegistryDatabase(path: dir + "/registry.db")
    let parsed = try ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:])
    let logger = Logger(label: "test")
    let router = try ToolRouter(plugins: [plugin], policy: PolicyEngine(manifest: parsed),
                                recorder: TraceRecorder(registry: registry, logger: logger), settings: settings, logger: logger,
                                permissions: { _ in UnrestrictedPermissions() })
    return (router, registry)
}

let worker = ToolCaller(agent: "agent-1", role: "worker")
