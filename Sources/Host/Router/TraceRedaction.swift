import Base
import Registry
import Crypto
import Foundation

/// Makes what a call brings safe to store in a trace: content the tool stores becomes its size and
/// digest, secrets are hidden (`Redaction`), and what is left is cut to a size cap.
public enum TraceRedaction {
    /// The most bytes of an error message stored in a trace event.
    public static let maxMessageBytes = 2000

    /// The arguments as a trace stores them: each of `content` replaced by `{bytes, sha256}`, then
    /// redacted, then a preview of the JSON when that is longer than `maxBytes`.
    public static func forTrace(_ value: JSONValue, content: Set<String> = [], maxBytes: Int) -> JSONValue {
        var value = value
        if !content.isEmpty, case .object(var object) = value {
            for key in content {
                if let field = object[key] { object[key] = digest(field) }
            }
            value = .object(object)
        }
        let redacted = Redaction.value(value)
        guard redacted.jsonByteCount > maxBytes else { return redacted }
        let text = redacted.jsonText
        return ["truncated": true, "bytes": .int(text.utf8.count), "preview": .string(text.utf8Prefix(maxBytes))]
    }

    /// `{bytes, sha256}` of a value's text (a string's own bytes; other JSON as its text).
    static func digest(_ value: JSONValue) -> JSONValue {
        var text = value.stringValue ?? value.jsonText
        let (count, hash) = text.withUTF8 { bytes in (bytes.count, SHA256.hash(data: UnsafeRawBufferPointer(bytes)).withUnsafeBytes { Array($0) }) }
        return ["bytes": .int(count), "sha256": .string(hash.hex)]
    }

    /// A caller-given name as stored: at most `maxNameBytes`, with the cut marked.
    public static func name(_ text: String) -> String { TraceEvent.storedName(text) }

    /// An error message as stored: secrets hidden, at most `maxMessageBytes`.
    public static func message(_ text: String) -> String {
        let redacted = Redaction.text(text.utf8Prefix(64 * 1024))
        return redacted.utf8.count <= maxMessageBytes ? redacted : redacted.utf8Prefix(maxMessageBytes) + "…"
    }
}
