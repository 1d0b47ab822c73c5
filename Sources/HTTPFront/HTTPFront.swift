import Base
import Foundation
import Host
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The HTTP front of `agenthub serve` (Hummingbird): `GET /health` (the process answers),
/// `GET /ready` (503 with the reasons while a declared source has never synced or a bridged server is
/// crash-looping), `GET /metrics` (Prometheus text), the API under `/v1`, MCP at `/mcp`, and the web
/// console at `/` (signed in by cookie).
public enum HTTPFront {
    /// Makes swift-metrics record into a Prometheus registry (once per process) and returns it.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Splits `HOST:PORT` (the manifest's `host.http`, or `--http`).
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// The routes, over `runtime`'s state: health, readiness and metrics open; `/v1` and `/mcp` behind keys;
    /// the console's pages behind its session cookie.
    static func router(runtime: HostRuntime, api: HTTPAPI, metrics: PrometheusCollectorRegistry, started: Date) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: MetricsMiddleware())  // requests, errors and durations by route template and method
        let shape = OneErrorShape.Routes()
        router.add(middleware: OneErrorShape(known: shape))
        let state = runtime.state
        router.get("/health") { _, _ -> Response in
            json(.ok, ["status": "ok", "revision": .string(state.snapshot.revision),
                       "uptime_seconds": .int(Int(Date().timeIntervalSince(started)))])
        }
        router.get("/ready") { _, _ -> Response in
            let readiness = await HostReadiness.check(state)
            var body: [String: JSONValue] = [
                "ready": .bool(readiness.ready),
                "reasons": .array(readiness.reasons.map { .string($0) }),
                "revision": .string(readiness.revision),
            ]
            if let reload = readiness.lastReload {
                body["last_reload"] = [
                    "result": .string(reload.result.rawValue), "trigger": .string(reload.trigger.rawValue),
                    "at": .string(ISO8601DateFormatter().string(from: reload.at)), "message": .string(reload.message),
                    "errors": .array(reload.errors.map { .string($0) }),
                ]
            }
            return json(readiness.ready ? .ok : .serviceUnavailable, .object(body))
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            metrics.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/v1/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        let gate = APIGate(api: api)
        let v1 = router.group("v1").add(middleware: gate)
        api.addToolRoutes(v1)
        api.addSkillRoutes(v1)
        api.addSkillEntryRoutes(v1)
        api.addTaskRoutes(v1)
        api.addSourceRoutes(v1)
        api.addEventRoutes(v1)
        api.addApprovalRoutes(v1)
        api.addMCPRoutes(router.group("mcp").add(middleware: gate))
        WebConsole(api: api, started: started).addRoutes(to: router)
        shape.set(router.routes.map { ($0.path.description, $0.method.rawValue) })
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText + "\n")))
    }

    /// The listener as a service of the host's group; `listening` is told the address it bound
    /// (with the real port when the port asked for was 0).
    public static func service(runtime: HostRuntime, keys: APIKeys, metrics: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger,
                               listening: @escaping @Sendable (String) -> Void) -> some Service {
        let api = HTTPAPI(runtime: runtime, keys: keys, listen: (host, port), logger: logger)
        let settings = runtime.state.snapshot.manifest.http
        let idle = settings.idleTimeout.seconds
        // Read at start: request_timeout and max_connections_per_address need a restart to change.
        let connections = ConnectionGuard(requestTimeout: settings.requestTimeout.duration, maxPerAddress: settings.maxConnectionsPerAddress)
        let app = Application(
            router: router(runtime: runtime, api: api, metrics: metrics, started: Date()),
            server: .http1(configuration: .init(additionalChannelHandlers: connections.handlers(), idleTimeout: .milliseconds(Int64(idle * 1000)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "agenthub"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? port
                api.listen.value = (host, port)
                listening("\(host.contains(":") ? "[\(host)]" : host):\(port)")
            },
            logger: logger
        )
        return Listener(app: app, address: "\(host):\(port)", api: api)
    }
}

/// The Hummingbird application, with an error that names the address when it cannot listen.
struct Listener<App: Service>: Service {
    let app: App
    let address: String
    let api: HTTPAPI

    func run() async throws {
        do {
            // Streams and sessions never end on their own: end them when shutdown starts, so the
            // listener's graceful shutdown does not wait for them.
            try await withGracefulShutdownHandler { try await app.run() } onGracefulShutdown: { api.stop() }
        } catch {
            let text = "\(error)"
            if text.localizedCaseInsensitiveContains("address already in use") || text.contains("EADDRINUSE") || text.contains("errno: 98") {
                let port = Int(address.split(separator: ":").last ?? "") ?? 0
                // Another host on this registry says where it listens; else /proc says who holds the port.
                let host = (try? await api.hosts.runningHosts())?.first { record in
                    record.pid != getpid() && record.http.map { $0.hasSuffix(":\(port)") } == true
                }
                let holder = host.map { "; agenthub \($0.kind) (pid \($0.pid), on this registry) listens there" }
                    ?? PortHolder.describe(port: port).map { "; \($0) listens there" } ?? "; another process listens there"
                throw HTTPFrontError(message: "cannot listen on \(address) (host.http, or --http): port \(port) is in use\(holder). Stop it, or pass --http 127.0.0.1:PORT with a free port (0 picks one)")
            }
            throw HTTPFrontError(message: "cannot listen on \(address) (host.http, or --http): \(error)")
        }
    }
}

struct HTTPFrontError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
