import Foundation
@_exported import TestSupport
@testable import Registry

/// A valid SKILL.md for `name`.
func skillMarkdown(_ name: String, description: String? = nil, body: String = "Instructions.") -> String {
    "---\nname: \(name)\ndescription: \(description ?? "Does \(name) things.")\n---\n\(body)\n"
}

/// Parses SKILL.md text found in a directory named `directory`.
func parse(_ text: String, in directory: String = "demo") -> ParsedSkill {
    ParsedSkill.parse(Data(text.utf8), directoryName: directory)
}
