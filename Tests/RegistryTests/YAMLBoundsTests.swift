import Foundation
import Testing
@testable import Registry

/// YAML that expands through aliases ("billion laughs") is refused before any tree is built.
@Suite struct YAMLBoundsTests {
    static func laughs(levels: Int, width: Int = 10) -> String {
        var lines = ["name: lol", "description: x", "a0: &a0 [" + Array(repeating: "\"lol\"", count: width).joined(separator: ",") + "]"]
        for level in 1..<levels {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: width).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n")
    }

    @Test func nestedAliasesPastTheBoundAreRefusedQuickly() throws {
        let started = ContinuousClock.now
        #expect(throws: YAMLBounds.Exceeded.self) { try YAMLBounds.check(Self.laughs(levels: 10), limit: 10_000) }
        #expect(ContinuousClock.now - started < .seconds(5))
        // Aliases as mapping keys, which Yams hashes while composing.
        let keys = Self.laughs(levels: 6) + "\nk: {*a5: 1, b: 2}"
        #expect(throws: YAMLBounds.Exceeded.self) { try YAMLBounds.check(keys, limit: 10_000) }
    }

    @Test func ordinaryYAMLWithAFewAliasesPasses() throws {
        try YAMLBounds.check(Self.laughs(levels: 2), limit: 10_000)
        try YAMLBounds.check("a: &x {b: 1}\nc: *x\nd: [*x, *x]\n", limit: 100)
        try YAMLBounds.check("not: [valid", limit: 100)  // syntax errors are the parser's to report
    }

    @Test func aSkillWhoseFrontmatterExpandsTooFarIsNotLoadableAndSaysWhy() {
        let text = "---\n" + Self.laughs(levels: 9) + "\n---\nBody\n"
        let started = ContinuousClock.now
        let skill = ParsedSkill.parse(Data(text.utf8), directoryName: "lol")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!skill.loadable && !skill.strict)
        #expect(skill.loadErrors.first?.contains("anchors and aliases") == true)
    }

    @Test func theComposerReportsEveryDuplicateKeyAndKeepsTheLastValue() throws {
        let result = try YAMLComposer.compose("a: 1\nb: {x: 1, x: 2}\na: 3\n", maxNodes: 1000)
        #expect(result.duplicates.map(\.key) == ["x", "a"])
        #expect(result.duplicates.map(\.line) == [2, 3])
        #expect(result.root?["a"]?.int == 3)
        #expect(result.root?["b"]?["x"]?.int == 2)
        #expect(result.root?["b"]?["x"]?.mark?.line == 2)
    }
}
