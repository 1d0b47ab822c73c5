import Base

/// One item of a tool result's `content`.
public enum ToolContent: Sendable, Equatable {
    case text(String)
    /// Any other MCP content item (image, audio, a resource or a link to one), carried as it came:
    /// what a bridged server returns besides text.
    case item(JSONValue)

    public var json: JSONValue {
        switch self {
        case .text(let t): return ["type": "text", "text": .string(t)]
        case .item(let value): return value
        }
    }

    /// The text of a text item; other items read as `[type]`.
    public var text: String {
        switch self {
        case .text(let t): return t
        case .item(let value): return "[\(value["type"]?.stringValue ?? "content")]"
        }
    }

    /// The size in bytes the item adds to a result, for traces.
    var byteCount: Int {
        switch self {
        case .text(let t): return t.utf8.count
        case .item(let value): return value.jsonByteCount
        }
    }
}

/// What a tool call returns. A failure is a result with `isError` set, never a thrown protocol error.
public struct ToolResult: Sendable, Equatable {
    public var content: [ToolContent]
    public var structuredContent: JSONValue?
    public var isError: Bool

    public init(content: [ToolContent], structuredContent: JSONValue? = nil, isError: Bool = false) {
        self.content = content
        self.structuredContent = structuredContent
        self.isError = isError
    }

    public static func text(_ text: String) -> ToolResult { ToolResult(content: [.text(text)]) }

    /// A structured result whose text content is the same value as JSON (for clients without
    /// `structuredContent` support).
    public static func structured(_ value: JSONValue, text: String? = nil) -> ToolResult {
        ToolResult(content: [.text(text ?? value.jsonText)], structuredContent: value)
    }

    public static func error(_ message: String) -> ToolResult { ToolResult(content: [.text(message)], isError: true) }

    /// All text content joined by newlines.
    public var text: String { content.map(\.text).joined(separator: "\n") }

    /// Size in bytes of what the result carries (text plus structured content), for traces.
    public var byteCount: Int {
        content.reduce(0) { $0 + $1.byteCount } + (structuredContent?.jsonByteCount ?? 0)
    }

    /// The result as MCP's `tools/call` carries it.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["content": .array(content.map(\.json)), "isError": .bool(isError)]
        if let structuredContent { o["structuredContent"] = structuredContent }
        return .object(o)
    }
}
