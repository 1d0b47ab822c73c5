import Foundation
import Testing
@testable import Base

@Suite struct JSONValueTests {
    @Test func jsonTextRoundTripsEveryKindOfValue() throws {
        let value: JSONValue = [
            "quote\"back\\slash": "line\nbreak\ttab\r\u{01}\u{1F}", "emoji": "😀 ünïcødé / slash", "int": 42, "negative": -7,
            "double": 0.25, "integral": 2.0, "bool": true, "null": nil, "nested": ["array": [1, "two", [:], []]],
        ]
        let text = value.jsonText
        let parsed = try JSONValue.decode(Data(text.utf8))
        #expect(parsed == value.replacingIntegralDoubles())
        #expect(text.hasPrefix("{\"bool\":true,\"double\":0.25,"))
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
        #expect(value.jsonByteCount == text.utf8.count)
    }

    @Test func theEscapedSizeOfAnyStringIsTheSizeOfItsEncoding() {
        // The count skips eight bytes at a time: quotes, backslashes and controls at every offset and length.
        let pieces = ["a", "\"", "\\", "\n", "\t", "\r", "\u{01}", "\u{1F}", " ", "~", "é", "😀", "\u{7F}", "0123456"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let string = (0..<Int.random(in: 0...40, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(JSONValue.string(string).jsonByteCount == JSONValue.string(string).jsonText.utf8.count, "\(string.debugDescription)")
        }
    }

    @Test func anyStringWrittenAsJSONReadsBackAsItself() throws {
        let pieces = ["a", "\"", "\\", "\n", "\t", "\r", "\u{00}", "\u{01}", "\u{1F}", " ", "é", "😀", "\u{7F}", "line of text "]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let string = (0..<Int.random(in: 0...60, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let text = JSONValue.string(string).jsonText
            #expect(try JSONValue.decode(Data(text.utf8)) == .string(string), "\(string.debugDescription)")
        }
        #expect(JSONValue.string("a\u{01}\u{1F}\"\\\n").jsonText == #""a\u0001\u001f\"\\\n""#)
        #expect(JSONValue.string("plain ünïcødé").jsonText == "\"plain ünïcødé\"")
    }
}

extension JSONValue {
    /// What a JSON round trip makes of the value: `2.0` comes back as the integer `2`.
    func replacingIntegralDoubles() -> JSONValue {
        switch self {
        case .double(let d) where d.rounded() == d: return .int(Int(d))
        case .array(let a): return .array(a.map { $0.replacingIntegralDoubles() })
        case .object(let o): return .object(o.mapValues { $0.replacingIntegralDoubles() })
        default: return self
        }
    }
}
