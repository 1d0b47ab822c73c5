import Foundation

/// SKILL.md fixtures for the strict-verdict parity suite: directory name and raw bytes.
/// Each one exercises a rule of the reference validator (or a file shape real repositories have).
enum StrictParityFixtures {
    struct Fixture {
        var directory: String
        var content: Data
    }

    static func text(_ directory: String, _ text: String) -> Fixture { Fixture(directory: directory, content: Data(text.utf8)) }

    static let all: [Fixture] = [
        text("valid", "---\nname: valid\ndescription: A valid skill.\n---\nBody.\n"),
        text("valid-full", "---\nname: valid-full\ndescription: All fields.\nlicense: MIT\ncompatibility: Python 3.11\nallowed-tools: Bash Read\nmetadata:\n  author: me\n  version: \"1.0\"\n---\nBody.\n"),
        text("no-frontmatter", "# Just markdown\n"),
        text("empty-file", ""),
        text("unclosed", "---\nname: unclosed\ndescription: never closed\n"),
        text("empty-frontmatter", "---\n---\nbody\n"),
        text("list-frontmatter", "---\n- a\n- b\n---\n"),
        text("scalar-frontmatter", "---\njust a string\n---\n"),
        text("missing-name", "---\ndescription: no name\n---\n"),
        text("missing-description", "---\nname: missing-description\n---\n"),
        text("missing-both", "---\nlicense: MIT\n---\n"),
        text("empty-description", "---\nname: empty-description\ndescription:\n---\n"),
        text("blank-description", "---\nname: blank-description\ndescription: \"   \"\n---\n"),
        text("list-description", "---\nname: list-description\ndescription:\n  - a\n  - b\n---\n"),
        text("map-name", "---\nname:\n  a: b\ndescription: x\n---\n"),
        text("empty-name", "---\nname: \"\"\ndescription: x\n---\n"),
        text("Upper", "---\nname: Upper\ndescription: x\n---\n"),
        text("-leading", "---\nname: -leading\ndescription: x\n---\n"),
        text("trailing-", "---\nname: trailing-\ndescription: x\n---\n"),
        text("double--hyphen", "---\nname: double--hyphen\ndescription: x\n---\n"),
        text("under_score", "---\nname: under_score\ndescription: x\n---\n"),
        text("has space", "---\nname: has space\ndescription: x\n---\n"),
        text("dot.name", "---\nname: dot.name\ndescription: x\n---\n"),
        text("mismatch-dir", "---\nname: other-name\ndescription: x\n---\n"),
        text("café", "---\nname: café\ndescription: Unicode letters are allowed.\n---\n"),
        text("日本語", "---\nname: 日本語\ndescription: CJK letters.\n---\n"),
        text("numeric-name", "---\nname: 123\ndescription: x\n---\n"),
        text("bool-name", "---\nname: true\ndescription: yes\n---\n"),
        text(String(repeating: "a", count: 65), "---\nname: \(String(repeating: "a", count: 65))\ndescription: x\n---\n"),
        text(String(repeating: "b", count: 64), "---\nname: \(String(repeating: "b", count: 64))\ndescription: x\n---\n"),
        text("long-description", "---\nname: long-description\ndescription: \(String(repeating: "d", count: 1025))\n---\n"),
        text("max-description", "---\nname: max-description\ndescription: \(String(repeating: "d", count: 1024))\n---\n"),
        text("long-compat", "---\nname: long-compat\ndescription: x\ncompatibility: \(String(repeating: "c", count: 501))\n---\n"),
        text("list-compat", "---\nname: list-compat\ndescription: x\ncompatibility:\n  - a\n---\n"),
        text("extra-field", "---\nname: extra-field\ndescription: x\nversion: 1.0\n---\n"),
        text("extra-fields", "---\nname: extra-fields\ndescription: x\nversion: 1.0\nauthor: me\ntags: t\n---\n"),
        text("flow-list", "---\nname: flow-list\ndescription: x\nmetadata: [a, b]\n---\n"),
        text("flow-map", "---\nname: flow-map\ndescription: x\nmetadata: {a: b}\n---\n"),
        text("anchor", "---\nname: anchor\ndescription: &d x\nlicense: MIT\n---\n"),
        text("duplicate-key", "---\nname: duplicate-key\nname: duplicate-key\ndescription: x\n---\n"),
        text("tab-indent", "---\nname: tab-indent\ndescription:\tx\n---\n"),
        text("unterminated-quote", "---\nname: unterminated-quote\ndescription: \"x\n---\n"),
        text("nested-metadata", "---\nname: nested-metadata\ndescription: x\nmetadata:\n  a:\n    b: c\n---\n"),
        text("block-description", "---\nname: block-description\ndescription: |\n  Line one.\n  Line two.\n---\n"),
        text("folded-description", "---\nname: folded-description\ndescription: >\n  Folded\n  text.\n---\n"),
        text("crlf", "---\r\nname: crlf\r\ndescription: Windows line endings.\r\n---\r\nBody.\r\n"),
        Fixture(directory: "bom", content: Data([0xEF, 0xBB, 0xBF]) + Data("---\nname: bom\ndescription: x\n---\n".utf8)),
        text("comment", "---\n# a comment\nname: comment\ndescription: x # trailing comment\n---\n"),
        text("quoted-name", "---\nname: 'quoted-name'\ndescription: \"Quoted.\"\n---\n"),
        text("many-errors", "---\nname: Many--Errors-\ndescription:\nextra: 1\n---\n"),
        text("spaced-name", "---\nname: \"  spaced-name  \"\ndescription: x\n---\n"),
        text("allowed-tools-list", "---\nname: allowed-tools-list\ndescription: x\nallowed-tools:\n  - Bash\n  - Read\n---\n"),
    ]
}
