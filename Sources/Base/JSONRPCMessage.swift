import Foundation

/// A JSON-RPC request id: a number or a string, echoed back exactly.
public enum JSONRPCID: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case string(String)

    public var json: JSONValue {
        switch self {
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        }
    }

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return "\"\(s)\""
        }
    }

    public init?(_ value: JSONValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .string(let s): self = .string(s)
        default: return nil
        }
    }
}

/// A JSON-RPC error object.
public struct JSONRPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(_ code: Int, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    public static func parseError(_ detail: String) -> JSONRPCError { JSONRPCError(parseErrorCode, "Parse error: \(detail)") }
    public static func invalidRequest(_ detail: String) -> JSONRPCError { JSONRPCError(invalidRequestCode, "Invalid request: \(detail)") }
    public static func methodNotFound(_ method: String) -> JSONRPCError { JSONRPCError(methodNotFoundCode, "Method not found: \(method)") }
    public static func invalidParams(_ detail: String) -> JSONRPCError { JSONRPCError(invalidParamsCode, "Invalid params: \(detail)") }
    public static func internalError(_ detail: String) -> JSONRPCError { JSONRPCError(internalErrorCode, "Internal error: \(detail)") }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .int(code), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }
}

/// One JSON-RPC 2.0 message as MCP uses it (no batches: MCP removed them in 2025-06-18).
public enum JSONRPCMessage: Sendable, Equatable {
    case request(id: JSONRPCID, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case response(id: JSONRPCID, result: JSONValue)
    case error(id: JSONRPCID?, JSONRPCError)

    /// The message as JSON.
    public var json: JSONValue {
        switch self {
        case .request(let id, let method, let params):
            var o: [String: JSONValue] = ["jsonrpc": "2.0", "id": id.json, "method": .string(method)]
            if let params { o["params"] = params }
            return .object(o)
        case .notification(let method, let params):
            var o: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
            if let params { o["params"] = params }
            return .object(o)
        case .response(let id, let result):
            return ["jsonrpc": "2.0", "id": id.json, "result": result]
        case .error(let id, let error):
            return ["jsonrpc": "2.0", "id": id?.json ?? .null, "error": error.json]
        }
    }

    /// One line of newline-delimited JSON (JSON text escapes every newline inside strings).
    public var line: [UInt8] {
        var bytes = Array(json.jsonText.utf8)
        bytes.append(0x0A)
        return bytes
    }

    /// Decodes one line. A failure carries the error to answer with and the request id when one
    /// could be read, so a malformed request still gets an answer its sender can match.
    public static func decode(_ bytes: some Collection<UInt8>) -> Result<JSONRPCMessage, DecodeFailure> {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            return .failure(DecodeFailure(id: nil, error: .parseError(error.description)))
        }
        return decode(value)
    }

    public struct DecodeFailure: Error, Sendable, Equatable {
        public let id: JSONRPCID?
        public let error: JSONRPCError
        /// The message had a method name and no id: a notification, which JSON-RPC never answers, even when malformed.
        public var isNotification = false
    }

    public static func decode(_ value: JSONValue) -> Result<JSONRPCMessage, DecodeFailure> {
        guard case .object(let o) = value else {
            let what = value.typeName == "array" ? "batches are not supported (MCP 2025-06-18 removed them)" : "expected a JSON object, got \(value.typeName)"
            return .failure(DecodeFailure(id: nil, error: .invalidRequest(what)))
        }
        let rawId = o["id"]
        let id = rawId.flatMap(JSONRPCID.init)
        func invalid(_ detail: String) -> Result<JSONRPCMessage, DecodeFailure> {
            var failure = DecodeFailure(id: id, error: .invalidRequest(detail))
            if rawId == nil, case .string? = o["method"] { failure.isNotification = true }
            return .failure(failure)
        }
        guard o["jsonrpc"] == "2.0" else { return invalid("\"jsonrpc\" must be \"2.0\"") }
        if let rawId, id == nil {
            return .failure(DecodeFailure(id: nil, error: .invalidRequest("\"id\" must be a string or an integer, got \(rawId.typeName)")))
        }
        if let method = o["method"] {
            guard case .string(let name) = method, !name.isEmpty else { return invalid("\"method\" must be a non-empty string") }
            let params = o["params"]
            switch params {
            case nil, .object?, .array?: break
            case let other?: return invalid("\"params\" must be an object or an array, got \(other.typeName)")
            }
            if let id { return .success(.request(id: id, method: name, params: params)) }
            return .success(.notification(method: name, params: params))
        }
        guard let id else { return invalid("a message needs \"method\", or \"id\" with \"result\" or \"error\"") }
        if let result = o["result"] { return .success(.response(id: id, result: result)) }
        if let error = o["error"]?.objectValue, case .int(let code)? = error["code"], case .string(let message)? = error["message"] {
            return .success(.error(id: id, JSONRPCError(code, message, data: error["data"])))
        }
        return invalid("a response needs \"result\" or an \"error\" with a code and a message")
    }
}
