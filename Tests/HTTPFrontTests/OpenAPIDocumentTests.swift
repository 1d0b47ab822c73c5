import Base
import Foundation
import Logging
import Prometheus
import TestSupport
import Testing
@testable import HTTPFront
@testable import Host

/// `/v1/openapi.json` describes exactly the API routes the router serves (not the console's pages).
struct OpenAPIDocumentTests {
    @Test func theDocumentNamesEveryRouteAndNoOther() throws {
        try withTemporaryDirectory { dir in
            try write("version: 1\nhost: { database: registry.db, cache: cache }\n", to: "registry.yaml", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "test"))
            let runtime = try HostRuntime(context: context, configPath: dir + "/registry.yaml", kind: "serve", syncing: false)
            let keys = APIKeys(registry: context.db, pepper: Data(repeating: 7, count: 32))
            let api = HTTPAPI(runtime: runtime, keys: keys, listen: ("127.0.0.1", 0), logger: context.logger)
            let router = HTTPFront.router(runtime: runtime, api: api, metrics: PrometheusCollectorRegistry(), started: Date())
            let served = Set(router.routes.map { route -> String in
                let path = route.path.description.split(separator: "/").map { segment -> String in
                    if segment == "**" { return "{path}" }
                    return String(segment)
                }.joined(separator: "/")
                return "\(route.method.rawValue) /\(path)"
            }).filter { route in
                // The web console's pages are HTML for browsers, not API: the document leaves them out.
                let path = route.split(separator: " ")[1]
                return ["/v1", "/mcp", "/health", "/ready", "/metrics"].contains { path == $0 || path.hasPrefix($0 + "/") }
            }
            let paths = try #require(OpenAPIDocument.document["paths"]?.objectValue)
            // The router names a position's parameter alike in every route (`skills/{name}/{skill}`
            // is the source and the skill); the document names them for readers: compare by shape.
            func shape(_ route: String) -> String {
                route.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix("{") && $0 != "{path}" ? "{}" : String($0) }.joined(separator: "/")
            }
            let documentedExactly = Set(paths.flatMap { path, methods in (methods.objectValue ?? [:]).keys.map { "\($0.uppercased()) \(path)" } })
            let documented = Set(documentedExactly.map(shape))
            let servedShapes = Set(served.map(shape))
            #expect(servedShapes == documented, "served only: \(servedShapes.subtracting(documented).sorted()); documented only: \(documented.subtracting(servedShapes).sorted())")
        }
    }

    @Test func theDocumentIsOpenAPI31WithOneErrorShape() throws {
        let document = OpenAPIDocument.document
        #expect(document["openapi"]?.stringValue == "3.1.0")
        let text = OpenAPIDocument.text
        #expect(try JSONParser.parse(text) == document)
        let error = try #require(document["components"]?["schemas"]?["Error"])
        #expect(error["required"] == ["error"])
    }
}
