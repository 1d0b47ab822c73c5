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
