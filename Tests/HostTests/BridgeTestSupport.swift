import Base
import Foundation
import Logging
import Plugins
import Registry
import TestSupport
@testable import Host

/// The misbehaving MCP server of the bridge tests (Python `mcp` SDK).
let bridgeTestServer = packageRoot + "/Tests/Interop/bridge_test_server.py"

/// A host whose manifest bridges `servers` (YAML under `plugins.mcp.servers`), started, with a
/// registry in `dir`. Tools of every server are allowed unless `rules` says otherwise.
struct BridgeHost {
    let dir: String
    let tools: ToolHost
    let registry: RegistryDatabase
    let manifest: Manifest

    var bridge: MCPBridge { tools.bridge! }
    var router: ToolRouter { tools.router }

    static func start(_ dir: String, servers: String, rules: String = "    - allow: [\"*__*\"]", extra: String = "",
                      environment: [String: String] = ProcessInfo.processInfo.environment, settle: Bool = true) async throws -> BridgeHost {
        let text = """
            version: 1
            host: { database: registry.db, cache: cache }
            router: { timeout: 20s }
            policy:
              default: deny
              rules:
            \(rules)
            roles:
              worker: {}
            plugins:
              mcp:
                restart_delay: 200ms
                max_restart_delay: 400ms
                startup_wait: 20s
            \(extra)
                servers:
            \(servers)
            """
        try write(text, to: "registry.yaml", in: dir)
        let manifest = try ManifestLoader.load(path: dir + "/registry.yaml", environment: environment)
        let registry = try RegistryDatabase(path: dir + "/registry.db")
        var env = environment
        env["AGENTHUB_BINARY"] = agenthubBinary()
        let tools = try ToolHost(manifest: manifest, registry: registry, logger: Logger(label: "bridge-test"), environment: env)
        try await tools.start()
        if settle { await tools.router.settle(timeout: .seconds(60)) }
        return BridgeHost(dir: dir, tools: tools, registry: registry, manifest: manifest)
    }

    /// One server entry running the test server in `mode`.
    static func testServer(_ name: String, mode: String = "", extra: String = "") -> String {
        let python = testPython() ?? "python3"
        let args = mode.isEmpty ? "[\(bridgeTestServer)]" : "[\(bridgeTestServer), \(mode)]"
        // Python starts slowly on a loaded machine (the whole suite runs at once): a generous start timeout.
        let extra = extra.contains("start_timeout") ? extra : extra + (extra.isEmpty ? "" : "\n") + "        start_timeout: 60s"
        return """
                  \(name):
                    command: \(python)
                    args: \(args)
            \(extra)
            """
    }

    func call(_ name: String, _ arguments: JSONValue = [:], progress: ToolProgressSink? = nil) async -> ToolCallOutcome {
        await router.call(name, arguments: arguments, caller: worker, session: "bridge-test", progress: progress)
    }

    func status(_ server: String) -> BridgedServerStatus? { bridge.statuses.first { $0.server == server } }

    /// Polls (without blocking a thread) until `condition` holds or `seconds` pass.
    func wait(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    func stop() async { await tools.stop() }
}

/// Whether a process is gone (or a zombie nobody reaped: dead all the same).
func processIsGone(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}
