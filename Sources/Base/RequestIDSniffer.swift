/// Finds a request's top-level `"id"` in the first bytes of a message too long to parse, so the
/// error for it can still be matched by its sender. Only an id at nesting depth one counts. Used by both ends
/// of the line transport: the MCP front answers an oversized request with its id, and the bridge
/// fails the call whose oversized answer it dropped.
public enum RequestIDSniffer {
    public static func id(in prefix: [UInt8]) -> JSONRPCID? {
        var depth = 0
        var i = 0
        var inString = false
        var stringStart = 0
        var lastKey: String?
        while i < prefix.count {
            let b = prefix[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") {
                    inString = false
                    let text = String(decoding: prefix[stringStart..<i], as: UTF8.self)
                    var j = i + 1
                    while j < prefix.count, [0x20, 0x09, 0x0A, 0x0D].contains(prefix[j]) { j += 1 }
                    if depth == 1, j < prefix.count, prefix[j] == UInt8(ascii: ":") { lastKey = text; i = j + 1; continue }
                    if depth == 1, lastKey == "id" { return .string(text) }
                    lastKey = nil
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true; stringStart = i + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; lastKey = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if depth == 1, lastKey == "id" {
                    var j = i + 1
                    while j < prefix.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(prefix[j]) { j += 1 }
                    guard j < prefix.count, [UInt8(ascii: ","), UInt8(ascii: "}"), 0x20].contains(prefix[j]) else { return nil }
                    return Int(String(decoding: prefix[i..<j], as: UTF8.self)).map(JSONRPCID.int)
                }
            case UInt8(ascii: ","): lastKey = nil
            default: break
            }
            i += 1
        }
        return nil
    }
}
