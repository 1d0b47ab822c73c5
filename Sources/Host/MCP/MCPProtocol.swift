import Base
import Foundation
import Plugins

/// Protocol constants and small codecs of the MCP front.
public enum MCPProtocol {
    /// Newest first. A client asking for one of these gets it; any other gets the newest.
    public static let versions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    static var latest: String { versions[0] }

    /// Tool `title`, `outputSchema` and `structuredContent` arrived in 2025-06-18.
    static func hasStructuredTools(_ version: String) -> Bool { version >= "2025-06-18" }

    /// MCP's own error code for a resource that does not exist.
    static let resourceNotFoundCode = -32002

    /// An opaque page cursor: the offset of the next item, base64-wrapped so clients treat it as opaque.
    public static func cursor(offset: Int) -> String { Data("o\(offset)".utf8).base64EncodedString() }

    public static func offset(fromCursor cursor: String) -> Int? {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
              text.first == "o", let offset = Int(text.dropFirst()), offset >= 0 else { return nil }
        return offset
    }

    /// One page of a list result, `{key: [...], nextCursor?}`, for a list request's `params`
    /// (a cursor this server did not issue is invalid params).
    static func page(_ key: String, _ items: [JSONValue], params: JSONValue?, size: Int) throws(JSONRPCError) -> JSONValue {
        var start = 0
        if let raw = params?["cursor"], raw != .null {
            guard case .string(let text) = raw, let offset = offset(fromCursor: text) else {
                throw .invalidParams("cursor is not one this server issued")
            }
            start = min(offset, items.count)
        }
        let end = min(start + size, items.count)
        var result: [String: JSONValue] = [key: .array(Array(items[start..<end]))]
        if end < items.count { result["nextCursor"] = .string(cursor(offset: end)) }
        return .object(result)
    }

    /// `params` as an object (absent params count as empty).
    static func object(_ params: JSONValue?, _ method: String) throws(JSONRPCError) -> [String: JSONValue] {
        switch params {
        case nil, .null?: return [:]
        case .object(let o)?: return o
        case let other?: throw .invalidParams("\(method) takes an object, got \(other.typeName)")
        }
    }

    static func string(_ params: [String: JSONValue], _ key: String, _ method: String) throws(JSONRPCError) -> String {
        guard let value = params[key] else { throw .invalidParams("\(method) needs \"\(key)\"") }
        guard case .string(let s) = value else { throw .invalidParams("\(method): \"\(key)\" must be a string, got \(value.typeName)") }
        return s
    }
}

/// A `skill://` URI as segments. The Skills extension's form is `skill://SOURCE/NAME/PATH`
/// (`PATH` is `SKILL.md` for the skill itself; `skill://SOURCE/NAME` is the skill's root
/// directory); the deprecated form `skill://NAME[/PATH]` is still read.
struct SkillURI: Equatable {
    static let scheme = "skill://"
    /// The decoded segments after the scheme, none empty.
    var segments: [String]

    init(_ segments: [String]) { self.segments = segments }

    /// The extension's URI of `path` in skill `name` of `source` (nil or empty: the skill's root directory).
    init(source: String, name: String, path: String? = nil) {
        segments = [source, name] + (path.map { $0.split(separator: "/").map(String.init) } ?? [])
    }

    init?(_ uri: String) {
        guard uri.hasPrefix(Self.scheme) else { return nil }
        var segments: [String] = []
        for part in uri.dropFirst(Self.scheme.count).split(separator: "/", omittingEmptySubsequences: false) {
            guard !part.isEmpty, let decoded = String(part).removingPercentEncoding, !decoded.isEmpty else { return nil }
            segments.append(decoded)
        }
        guard !segments.isEmpty else { return nil }
        self.segments = segments
    }

    var text: String {
        Self.scheme + segments.enumerated().map { index, segment in
            segment.addingPercentEncoding(withAllowedCharacters: index == 0 ? Self.authority : Self.segment) ?? segment
        }.joined(separator: "/")
    }

    /// What the first segment (the URI's authority, a reg-name) keeps unencoded.
    private static let authority: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._~!$&'()*+,;=")
        return set
    }()

    private static let segment: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._~!$&'()*+,;=:@")
        return set
    }()

    /// A MIME type from a file name: what clients use to decide how to show it.
    static func mimeType(_ path: String, binary: Bool) -> String {
        let ext = PathText.pathExtension(path).lowercased()
        switch ext {
        case "md", "markdown": return "text/markdown"
        case "py": return "text/x-python"
        case "sh", "bash": return "text/x-shellscript"
        case "js", "mjs": return "text/javascript"
        case "ts": return "text/x-typescript"
        case "json": return "application/json"
        case "yaml", "yml": return "application/yaml"
        case "html", "htm": return "text/html"
        case "csv": return "text/csv"
        case "xml": return "application/xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "pdf": return "application/pdf"
        default: return binary ? "application/octet-stream" : "text/plain"
        }
    }
}

/// The MIME type the fronts give a skill file, from its name.
public func skillFileMIMEType(_ path: String, binary: Bool) -> String { SkillURI.mimeType(path, binary: binary) }
