import Base
import Core
import Hummingbird

/// A header's name (HTTPTypes' `HTTPField.Name`, which Hummingbird does not export by that name).
typealias HeaderName = HTTPFields.Element.Name

/// The one error of the HTTP API: a status and `{"error": {"code", "message"}}`.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let body: JSONValue = ["error": ["code": .string(code), "message": .string(message)]]
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonText + "\n")))
    }

    /// A core service's answer: not found is 404, a bad request 400, forbidden 403, a conflict 409,
    /// the store failing 500, a host that cannot 503.
    init(_ error: CoreError) {
        switch error.code {
        case .notFound: self.init(.notFound, "not_found", error.message)
        case .invalid: self.init(.badRequest, "bad_request", error.message)
        case .forbidden: self.init(.forbidden, "forbidden", error.message)
        case .conflict: self.init(.conflict, "conflict", error.message)
        case .storage: self.init(.internalServerError, "internal", error.message)
        case .unavailable: self.init(.serviceUnavailable, "unavailable", error.message)
        }
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, "conflict", message) }
    static func internalError(_ message: String) -> APIError { APIError(.internalServerError, "internal", message) }
    static func unavailable(_ message: String) -> APIError { APIError(.serviceUnavailable, "unavailable", message) }

    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, "unauthorized", message, headers: [.wwwAuthenticate: "Bearer realm=\"agenthub\""])
    }

    static func tooManyRequests(retryAfter seconds: Int) -> APIError {
        APIError(.tooManyRequests, "rate_limited", "too many requests for this key (http.rate_limit); retry after \(seconds) s",
                 headers: [.retryAfter: "\(seconds)"])
    }
}

/// Gives Hummingbird's own errors the API's one shape: a path no route has is 404, a method a
/// known path does not take is 405 with `Allow`.
struct OneErrorShape: RouterMiddleware {
    typealias Context = APIContext
    /// The router's routes, filled in once they are all added (this middleware comes first).
    final class Routes: Sendable {
        /// Each route's path template (`{name}` one segment, `**` the rest) and its methods.
        let value = LockedValue<[(segments: [String], methods: [String])]>([])

        func set(_ routes: [(path: String, method: String)]) {
            var byPath: [String: [String]] = [:]
            for route in routes { byPath[route.path, default: []].append(route.method) }
            value.value = byPath.map { (path, methods) in (path.split(separator: "/").map(String.init), methods.sorted()) }
        }
    }

    let known: Routes

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as HTTPError {
            switch error.status {
            case .notFound, .methodNotAllowed:
                let path = request.uri.path
                if let allowed = methods(for: path), !allowed.contains(request.method.rawValue) {
                    throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not allowed on \(path); it takes \(allowed.joined(separator: ", "))",
                                   headers: [.allow: allowed.joined(separator: ", ")])
                }
                throw APIError.notFound("no route \(request.method.rawValue) \(path) (GET /v1/openapi.json lists them)")
            default:
                throw APIError(error.status, error.status.code >= 500 ? "internal" : "bad_request", error.body ?? error.status.reasonPhrase)
            }
        }
    }

    /// The methods of the route whose template matches `path`, if one does.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/").map(String.init)
        for route in known.value.value {
            var matched = true
            for (index, segment) in route.segments.enumerated() {
                if segment == "**" { matched = index < parts.count; break }
                guard index < parts.count, segment.hasPrefix("{") || segment == parts[index] else { matched = false; break }
                if index == route.segments.count - 1, parts.count != route.segments.count { matched = false }
            }
            if route.segments.isEmpty { matched = parts.isEmpty }
            if matched { return route.methods }
        }
        return nil
    }
}
