import Base

/// JSON that keeps its objects' key order, for editing a file a person wrote (a client's MCP
/// configuration): parsed, changed in one place, and written back with every other entry where it was.
/// Comments and trailing commas (JSONC) are refused with where they are, never dropped.
public indirect enum OrderedJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number as written (never reformatted).
    case number(String)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    public static func == (l: OrderedJSON, r: OrderedJSON) -> Bool {
        switch (l, r) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> OrderedJSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// Sets `key` (in place when present, else last).
    public mutating func set(_ key: String, _ value: OrderedJSON) {
        guard case .object(var fields) = self else { return }
        if let index = fields.firstIndex(where: { $0.0 == key }) { fields[index].1 = value } else { fields.append((key, value)) }
        self = .object(fields)
    }

    // MARK: Writing

    /// Indented by two spaces, one entry a line, as editors write these files.
    public func text(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return Self.quoted(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy({ if case .string = $0 { true } else if case .number = $0 { true } else { false } }) {
                return "[" + items.map { $0.text() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { inner + $0.text(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            return "{\n" + fields.map { inner + Self.quoted($0.0) + ": " + $0.1.text(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    static func quoted(_ s: String) -> String { JSONValue.string(s).jsonText }

    // MARK: Reading

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let column: Int
        public let reason: String
        public var description: String { "\(line):\(column): \(reason)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> OrderedJSON {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        if parser.at == parser.bytes.count { return .object([]) }
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw parser.failure("unexpected text after the JSON value") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var at = 0

        static let comment = "a comment: this file is JSON with comments, which would be lost; add the entry by hand"

        func failure(_ reason: String) -> ParseError {
            var line = 1, column = 1
            for byte in bytes[..<min(at, bytes.count)] {
                if byte == 10 { line += 1; column = 1 } else { column += 1 }
            }
            return ParseError(line: line, column: column, reason: reason)
        }

        mutating func skipSpace() {
            while at < bytes.count, [9, 10, 13, 32].contains(bytes[at]) { at += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            skipSpace()
            guard at < bytes.count, bytes[at] == byte else { throw failure("expected \(what)") }
            at += 1
        }

        mutating func value(depth: Int) throws(ParseError) -> OrderedJSON {
            guard depth < 200 else { throw failure("nested too deeply") }
            skipSpace()
            guard at < bytes.count else { throw failure("the file ends inside a value") }
            switch bytes[at] {
            case UInt8(ascii: "/"): throw failure(Self.comment)
            case UInt8(ascii: "{"):
                at += 1
                var fields: [(String, OrderedJSON)] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(fields) }
                while true {
                    skipSpace()
                    if at < bytes.count, bytes[at] == UInt8(ascii: "}") { throw failure("a trailing comma") }
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw failure(at < bytes.count && bytes[at] == UInt8(ascii: "/") ? Self.comment : "expected a key in quotes") }
                    let key = try string()
                    try expect(UInt8(ascii: ":"), "':'")
                    fields.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard at < bytes.count else { throw failure("the file ends inside an object") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(fields) }
                    throw failure(bytes[at] == UInt8(ascii: "/") ? Self.comment : "expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                at += 1
                var items: [OrderedJSON] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    skipSpace()
                    if at < bytes.count, bytes[at] == UInt8(ascii: "]") { throw failure("a trailing comma") }
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard at < bytes.count else { throw failure("the file ends inside an array") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                    throw failure("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try word("true", .bool(true))
            case UInt8(ascii: "f"): return try word("false", .bool(false))
            case UInt8(ascii: "n"): return try word("null", .null)
            default:
                let start = at
                while at < bytes.count, "+-0123456789.eE".utf8.contains(bytes[at]) { at += 1 }
                guard at > start else { throw failure("unexpected character") }
                return .number(String(decoding: bytes[start..<at], as: UTF8.self))
            }
        }

        mutating func word(_ text: String, _ value: OrderedJSON) throws(ParseError) -> OrderedJSON {
            let utf8 = Array(text.utf8)
            guard at + utf8.count <= bytes.count, Array(bytes[at..<(at + utf8.count)]) == utf8 else { throw failure("unexpected word") }
            at += utf8.count
            return value
        }

        mutating func string() throws(ParseError) -> String {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if byte != UInt8(ascii: "\\") { out.append(byte); continue }
                guard at < bytes.count else { break }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    guard at + 4 <= bytes.count, var code = UInt32(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16) else { throw failure("a bad \\u escape") }
                    at += 4
                    // A surrogate pair.
                    if (0xD800...0xDBFF).contains(code), at + 6 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u"),
                       let low = UInt32(String(decoding: bytes[(at + 2)..<(at + 6)], as: UTF8.self), radix: 16), (0xDC00...0xDFFF).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        at += 6
                    }
                    out += Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8)
                default: out.append(escape)
                }
            }
            throw failure("the file ends inside a string")
        }
    }
}
