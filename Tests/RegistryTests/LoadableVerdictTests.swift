import Foundation
import Testing
@testable import Registry

@Suite struct LoadableVerdictTests {
    @Test func aValidSkillIsLoadableAndStrict() {
        let skill = parse(skillMarkdown("demo"))
        #expect(skill.loadable && skill.strict)
        #expect(skill.name == "demo")
        #expect(skill.body == "Instructions.")
    }

    @Test func aByteOrderMarkIsIgnoredWithAWarning() {
        let skill = ParsedSkill.parse(Data([0xEF, 0xBB, 0xBF]) + Data(skillMarkdown("demo").utf8), directoryName: "demo")
        #expect(skill.loadable)
        #expect(!skill.strict)
        #expect(skill.warnings.contains { $0.contains("byte order mark") })
    }

    @Test func crlfLineEndingsAreRead() {
        let skill = parse("---\r\nname: demo\r\ndescription: Windows.\r\n---\r\nBody line.\r\n")
        #expect(skill.loadable && skill.strict)
        #expect(skill.body == "Body line.")
    }

    @Test func anEmptyFileIsNotLoadable() {
        #expect(parse("").loadErrors == ["SKILL.md is empty"])
    }

    @Test func aFileWithoutFrontmatterIsNotLoadable() {
        let skill = parse("# Title\n\nText.\n")
        #expect(!skill.loadable)
        #expect(skill.loadErrors[0].contains("no YAML frontmatter"))
    }

    @Test func unclosedFrontmatterIsNotLoadable() {
        #expect(parse("---\nname: demo\ndescription: x\n").loadErrors[0].contains("not closed"))
    }

    @Test func unparseableYAMLIsNotLoadableAndNamesTheLine() {
        let skill = parse("---\nname: demo\ndescription: \"open\n---\n")
        #expect(!skill.loadable)
        #expect(skill.loadErrors[0].contains("line"), "\(skill.loadErrors)")
    }

    @Test func aMissingOrEmptyDescriptionIsNotLoadable() {
        #expect(parse("---\nname: demo\n---\n").loadErrors == ["SKILL.md frontmatter has no description"])
        #expect(!parse("---\nname: demo\ndescription: \"  \"\n---\n").loadable)
        #expect(!parse("---\nname: demo\ndescription:\n  - list\n---\n").loadable)
    }

    @Test func invalidUTF8IsReplacedWithAWarning() {
        let bytes = Data("---\nname: demo\ndescription: caf".utf8) + Data([0xE9]) + Data(" menu\n---\n".utf8)
        let skill = ParsedSkill.parse(bytes, directoryName: "demo")
        #expect(skill.loadable)
        #expect(!skill.strict)
        #expect(skill.warnings.contains { $0.contains("not valid UTF-8") && $0.contains("offset 31") })
    }

    @Test func whatStrictRejectsButLoadersAcceptIsAWarning() {
        let skill = parse("---\nname: Other_Name\ndescription: x\nversion: 1.2\ntags: [a, b]\nmetadata:\n  nested:\n    deep: 1\n---\n")
        #expect(skill.loadable)
        #expect(!skill.strict)
        #expect(skill.name == "Other_Name")
        #expect(skill.extraFields == ["version": .double(1.2), "tags": .array([.string("a"), .string("b")])])
        #expect(skill.metadata == .object(["nested": .object(["deep": .int(1)])]))
        #expect(skill.warnings.contains { $0.hasPrefix("Invalid YAML in frontmatter") })
    }

    @Test func duplicateKeysKeepTheLastValueWithAWarning() {
        let skill = parse("---\nname: demo\ndescription: first\ndescription: second\n---\n")
        #expect(skill.loadable)
        #expect(skill.description == "second")
        #expect(skill.warnings.contains { $0.contains("repeats 'description' (line 3)") })
    }

    @Test func aMissingNameFallsBackToTheDirectoryName() {
        let skill = parse("---\ndescription: x\n---\n", in: "folder-name")
        #expect(skill.loadable)
        #expect(skill.name == "folder-name")
        #expect(skill.strictErrors == ["Missing required field in frontmatter: name"])
    }

    @Test func allowedToolsAsAListIsJoinedWithAWarning() {
        let skill = parse("---\nname: demo\ndescription: x\nallowed-tools:\n  - Bash\n  - Read\n---\n")
        #expect(skill.allowedTools == "Bash Read")
        #expect(skill.warnings.contains { $0.contains("allowed-tools is a list") })
    }
}
