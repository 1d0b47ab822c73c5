import Base
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

/// Gives Hummingbird's own errors (no such route, a body it could not read) the API's one shape.
struct OneErrorShape: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw APIError.notFound("no route \(request.method.rawValue) \(request.uri.path) (GET /v1/openapi.json lists them)")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not allowed on \(request.uri.path)")
            default: throw APIError(error.status, error.status.code >= 500 ? "internal" : "bad_request", error.body ?? error.status.reasonPhrase)
            }
        }
    }
}
