import Foundation
import Testing
@testable import Base

@Suite struct JSONParserTests {
    @Test(arguments: [
        #"{"a":[1,-2,3.5,1e3,true,false,null],"b":{"c":"d"}}"#,
        #"  [ "tab\t", "nl\n", "quote\"", "slash\/", "uni\u00e9", "pair\ud83d\ude00" ]  "#,
        #"{"big":12345678901234567890,"neg":-0,"exp":-1.25E-3}"#,
        #""just a string""#, "0", "[]", "{}",
    ])
    func parsesWhatFoundationParsesToTheSameValue(_ text: String) throws {
        let ours = try JSONParser.parse(text)
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours.jsonText == theirs.jsonText)
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a string key"), (#"{"a" 1}"#, "expected ':'"),
        ("[1,]", "expected a value"), ("[1 2]", "expected ',' or ']'"), ("01", "leading zero"), ("1.", "digit after '.'"),
        (#""abc"#, "unterminated string"), (#""\x""#, "invalid escape"), (#""\ud800""#, "unpaired high surrogate"),
        ("tru", "unexpected end of input in 'true'"), ("nul!", "invalid literal"), ("{} x", "after the JSON value"),
        ("\"a\u{01}b\"", "control character"), ("1e999", "out of range"),
    ])
    func rejectsMalformedTextSayingWhere(_ text: String, _ message: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
        do { _ = try JSONParser.parse(text) } catch { #expect(error.description.contains(message), "\(text): \(error)") }
    }

    @Test func reportsTheByteOffsetOfTheProblem() {
        do { _ = try JSONParser.parse(#"{"a":1,"b":?}"#) } catch { #expect(error.offset == 11) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func boundsNestingInsteadOfOverflowingTheStack() throws {
        let deep = String(repeating: "[", count: 1_000_000)
        do { _ = try JSONParser.parse(deep); Issue.record("parsed a million open brackets") } catch {
            #expect(error.message.contains("nesting deeper than 256"))
        }
        let fine = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        _ = try JSONParser.parse(fine)
    }
}
