import Foundation

/// A JSON value: how the registry keeps frontmatter it does not model (nested `metadata`
/// maps, unknown fields) without flattening it to strings.
public enum JSONValue: Codable, Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Compact JSON text with sorted keys (stable, so it can be compared and digested). Written by
    /// hand: it is on every tool call's path, and Foundation's encoder costs several times more.
    public var jsonText: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite { out += "null" } else if d.rounded() == d, abs(d) < 1e15 { out += String(Int64(d)) } else { out += "\(d)" }
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, key) in object.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                Self.writeString(key, into: &out)
                out += ":"
                object[key]!.write(into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        // Over the contiguous bytes: a search through `s.utf8` and an append per plain run cost
        // ~10 ns a byte (a 4 KiB file's text was a tenth of a routed `read_file` over stdio).
        if s.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, of: s, into: &out) }) != nil { return }
        var copy = s
        copy.withUTF8 { appendEscaped($0, of: s, into: &out) }
    }

    /// `bytes` (the UTF-8 of `string`) as a JSON string: the string itself between quotes when
    /// nothing needs escaping (counted a word at a time), else built once at its final size.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, of string: String, into out: inout String) {
        let size = escapedByteCount(bytes)
        if size == bytes.count + 2 {
            out += "\""
            out += string
            out += "\""
            return
        }
        out += String(unsafeUninitializedCapacity: size) { buffer in
            var o = 0
            @inline(__always) func put(_ byte: UInt8) { buffer[o] = byte; o += 1 }
            put(0x22)
            let count = bytes.count
            guard let base = bytes.baseAddress, let target = buffer.baseAddress else { put(0x22); return o }
            var i = 0
            while i < count {
                // A word with nothing to escape is copied whole (see `escapedByteCount`).
                if i + 8 <= count {
                    let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    if !needsEscape(w) {
                        UnsafeMutableRawPointer(target + o).storeBytes(of: w, as: UInt64.self)
                        o += 8; i += 8
                        continue
                    }
                }
                let byte = base[i]
                i += 1
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { put(byte); continue }
                put(0x5C)
                switch byte {
                case 0x22, 0x5C: put(byte)
                case 0x0A: put(UInt8(ascii: "n"))
                case 0x0D: put(UInt8(ascii: "r"))
                case 0x09: put(UInt8(ascii: "t"))
                default:
                    let digits: StaticString = "0123456789abcdef"
                    put(UInt8(ascii: "u")); put(UInt8(ascii: "0")); put(UInt8(ascii: "0"))
                    put(digits.utf8Start[Int(byte >> 4)]); put(digits.utf8Start[Int(byte & 0xF)])
                }
            }
            put(0x22)
            return o
        }
    }

    /// The length in bytes of `jsonText`, counted without building it.
    public var jsonByteCount: Int {
        switch self {
        case .null: return 4
        case .bool(let b): return b ? 4 : 5
        case .int, .double: return jsonText.utf8.count
        case .string(let s): return Self.stringByteCount(s)
        case .array(let items): return 2 + max(0, items.count - 1) + items.reduce(0) { $0 + $1.jsonByteCount }
        case .object(let o):
            return 2 + max(0, o.count - 1) + o.reduce(0) { $0 + Self.stringByteCount($1.key) + 1 + $1.value.jsonByteCount }
        }
    }

    static func stringByteCount(_ s: String) -> Int {
        // Over the contiguous bytes: iterating `s.utf8` was ~4 ns a byte (17 µs for a 4 KiB result).
        if let count = s.utf8.withContiguousStorageIfAvailable(escapedByteCount) { return count }
        var copy = s
        return copy.withUTF8(escapedByteCount)
    }

    private static func escapedByteCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 2 + bytes.count
        guard let base = bytes.baseAddress else { return count }
        // Eight bytes at a time: a word with no control byte, quote or backslash (most of any text)
        // adds nothing beyond its length; only the others are looked at byte by byte.
        var i = 0
        while i + 8 <= bytes.count {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if needsEscape(w) {
                for byte in UnsafeBufferPointer(start: base + i, count: 8) { count += extra(byte) }
            }
            i += 8
        }
        while i < bytes.count {
            count += extra(base[i])
            i += 1
        }
        return count
    }

    /// Whether any of a word's eight bytes is a control byte, a quote or a backslash (may say yes
    /// for a word with none, never no for a word with one: the bytes are then looked at one by one).
    @inline(__always) private static func needsEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ w: UInt64) -> Bool { (w &- ones) & ~w & highs != 0 }
        let below32 = (w &- ones &* 0x20) & ~w & highs != 0
        return below32 || hasZero(w ^ (ones &* 0x22)) || hasZero(w ^ (ones &* 0x5C))
    }

    /// What escaping adds to one byte: `\"`, `\\`, `\n`, `\r`, `\t` one, other controls `\u00XX` five.
    @inline(__always) private static func extra(_ byte: UInt8) -> Int {
        guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { return 0 }
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09: return 1
        default: return 5
        }
    }

    public static func parse(_ text: String?) -> JSONValue? {
        guard let text, let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }
}
