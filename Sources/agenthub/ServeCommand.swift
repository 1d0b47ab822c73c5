import ArgumentParser
import Foundation
import HTTPFront
import Host
import ServiceLifecycle

/// `agenthub serve`: the long-running host. Syncs every source on its interval, runs the bridged
/// MCP servers, reloads the manifest when it changes, and listens on HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the host: sync on schedule, bridged servers, live reload, and HTTP (/health, /ready, /metrics).",
        discussion: """
            Runs until SIGTERM or SIGINT, then stops within its grace period: the HTTP listener first, then \
            reload, sync and the bridged servers, and the trace writer last (every trace is written). The \
            manifest is reloaded when the file changes, on SIGHUP, and on agenthub reload; a manifest with \
            problems is rejected (each one logged as FILE:LINE:COL) and the last good one keeps serving. \
            GET /health answers while the process runs; GET /ready is 503, with the reasons, while a source \
            has never synced or a bridged server is crash-looping; GET /metrics is Prometheus text.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Where to listen, HOST:PORT (default: host.http in the manifest; port 0 picks a free port).")
    var http: String?

    @Flag(name: .long, help: "Do not sync sources (on start and on their interval).")
    var noSync = false

    @Option(name: .long, help: "Longest graceful shutdown, in seconds, before what is left is cancelled.")
    var shutdownGrace: Double = 10

    func run() async throws {
        let logger = global.logger(forHost: true)
        let context: HostContext
        var loadError: HostError?
        do { context = try await HostContext.connect(configPath: global.config, logger: logger) } catch where [.manifestInvalid, .manifestUnreadable].contains(error.code) {
            // Serve anyway: /ready says why not ready, and the manifest loads as soon as it is fixed.
            Output.fail(error)
            Output.stderr("warning: \(global.config) did not load; serving nothing (GET /ready answers 503 with why) until it is fixed")
            loadError = error
            do { context = try await HostContext.unloaded(configPath: global.config, logger: logger) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        // An unloaded context's manifest carries host.http as read leniently.
        let address = http ?? context.manifest.host.http
        guard let (host, port) = HTTPFront.address(address) else {
            Output.stderr("error: --http must be HOST:PORT, found '\(address)'")
            throw ExitCode(64)
        }
        // Before the runtime: its parts keep metric handles, which must come from Prometheus.
        let metrics = HTTPFront.bootstrapMetrics()
        let runtime: HostRuntime
        do { runtime = try HostRuntime(context: context, configPath: global.config, kind: "serve", syncing: !noSync, loadError: loadError) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        let keys: APIKeys
        do { keys = try APIKeys(context: context) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        let revision = runtime.state.snapshot.revision
        let config = global.config
        let loaded = loadError == nil
        let front = HTTPFront.service(runtime: runtime, keys: keys, metrics: metrics, host: host, port: port, logger: context.logger) { bound in
            Output.stderr("agenthub serve: listening on http://\(bound) (manifest \(config), \(loaded ? "revision \(revision)" : "not loaded"); pid \(getpid()))")
            runtime.presence.listening(at: "http://\(bound)")
        }
        do {
            try await runtime.run(fronts: [.init(service: front, serviceName: "http")], shutdownLimit: .milliseconds(Int64(shutdownGrace * 1000)))
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
    }
}
