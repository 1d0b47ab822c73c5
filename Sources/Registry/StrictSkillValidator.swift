import Foundation
import Yams

/// The strict verdict: the rules and messages of the reference validator `skills-ref`
/// (`agentskills validate`), without its bug of truncating values that contain `---`.
///
/// skills-ref parses frontmatter with strictyaml, which reads every scalar as a string and rejects
/// flow collections, anchors, aliases and duplicate keys; this validator does the same.
public enum StrictSkillValidator {
    public static let maxNameLength = 64
    public static let maxDescriptionLength = 1024
    public static let maxCompatibilityLength = 500
    public static let allowedFields: Set<String> = ["name", "description", "license", "allowed-tools", "metadata", "compatibility"]

    /// Messages skills-ref would print for this SKILL.md in a directory named `directoryName`.
    static func validate(_ document: SkillFrontmatter, directoryName: String) -> [String] {
        validate(document, directoryName: directoryName, yaml: document.yaml.map(ParsedYAML.init))
    }

    /// The same, reusing a parse of the frontmatter the caller already made.
    static func validate(_ document: SkillFrontmatter, directoryName: String, yaml parsed: ParsedYAML?) -> [String] {
        guard let content = document.strictText else {
            return ["SKILL.md is not valid UTF-8"]
        }
        guard content.hasPrefix("---") else {
            return ["SKILL.md must start with YAML frontmatter (---)"]
        }
        guard let yaml = document.yaml, let parsed else {
            return ["SKILL.md frontmatter not properly closed with ---"]
        }
        if let problem = tabProblem(yaml, lineOffset: 1) {
            return ["Invalid YAML in frontmatter: \(problem)"]
        }
        let root: Node?
        switch parsed.root {
        case .failure(let error):
            return ["Invalid YAML in frontmatter: \(YAMLProblem(error, lineOffset: 1))"]
        case .success(let node):
            root = node
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            if let root, let problem = withExtendedLifetime(parsed.parser, { strictYAMLProblem(in: root, lines: lines, lineOffset: 1) }) {
                return ["Invalid YAML in frontmatter: \(problem)"]
            }
        }
        guard let root, case .mapping(let mapping) = root else {
            return ["SKILL.md frontmatter must be a YAML mapping"]
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping { fields[key.string ?? ""] = value }
        return validateFields(fields, directoryName: directoryName)
    }

    static func validateFields(_ fields: [String: Node], directoryName: String) -> [String] {
        var errors: [String] = []
        let extra = Set(fields.keys).subtracting(allowedFields)
        if !extra.isEmpty {
            let allowed = allowedFields.sorted().map { "'\($0)'" }.joined(separator: ", ")
            errors.append("Unexpected fields in frontmatter: \(extra.sorted().joined(separator: ", ")). Only [\(allowed)] are allowed.")
        }
        if let name = fields["name"] {
            errors += validateName(name.scalar?.string, directoryName: directoryName)
        } else {
            errors.append("Missing required field in frontmatter: name")
        }
        if let description = fields["description"] {
            errors += validateDescription(description.scalar?.string)
        } else {
            errors.append("Missing required field in frontmatter: description")
        }
        if let compatibility = fields["compatibility"] {
            if let text = compatibility.scalar?.string {
                if text.unicodeScalars.count > maxCompatibilityLength {
                    errors.append("Compatibility exceeds \(maxCompatibilityLength) character limit (\(text.unicodeScalars.count) chars)")
                }
            } else {
                errors.append("Field 'compatibility' must be a string")
            }
        }
        return errors
    }

    static func validateName(_ raw: String?, directoryName: String) -> [String] {
        guard let raw, !raw.pythonStripped.isEmpty else { return ["Field 'name' must be a non-empty string"] }
        let name = raw.pythonStripped.precomposedStringWithCompatibilityMapping
        var errors: [String] = []
        let length = name.unicodeScalars.count
        if length > maxNameLength {
            errors.append("Skill name '\(name)' exceeds \(maxNameLength) character limit (\(length) chars)")
        }
        if name != name.lowercased() { errors.append("Skill name '\(name)' must be lowercase") }
        if name.hasPrefix("-") || name.hasSuffix("-") { errors.append("Skill name cannot start or end with a hyphen") }
        if name.contains("--") { errors.append("Skill name cannot contain consecutive hyphens") }
        if !name.unicodeScalars.allSatisfy({ $0 == "-" || $0.isPythonAlphanumeric }) {
            errors.append("Skill name '\(name)' contains invalid characters. Only letters, digits, and hyphens are allowed.")
        }
        if directoryName.precomposedStringWithCompatibilityMapping != name {
            errors.append("Directory name '\(directoryName)' must match skill name '\(name)'")
        }
        return errors
    }

    static func validateDescription(_ description: String?) -> [String] {
        guard let description, !description.pythonStripped.isEmpty else {
            return ["Field 'description' must be a non-empty string"]
        }
        let length = description.unicodeScalars.count
        if length > maxDescriptionLength {
            return ["Description exceeds \(maxDescriptionLength) character limit (\(length) chars)"]
        }
        return []
    }

    /// The first construct strictyaml refuses (flow collections, anchors, aliases), as its message names it.
    /// strictyaml's scanner refuses a tab where a token would start (after `key:` or as indentation).
    static func tabProblem(_ yaml: String, lineOffset: Int) -> String? {
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("\t") || line.range(of: ":\t") != nil {
                let column = (line.firstIndex(of: "\t").map { line.distance(from: line.startIndex, to: $0) } ?? 0) + 1
                return "while scanning for the next token found character '\\t' that cannot start any token (line \(index + 1 + lineOffset), column \(column))"
            }
        }
        return nil
    }

    /// Whether a collection was written in flow style (`[a, b]`, `{a: b}`): its first character.
    static func isFlow(_ mark: Mark?, _ lines: [Substring]) -> Bool {
        guard let mark, mark.line - 1 < lines.count else { return false }
        let line = lines[mark.line - 1].unicodeScalars
        guard mark.column - 1 < line.count else { return false }
        let char = line[line.index(line.startIndex, offsetBy: mark.column - 1)]
        return char == "[" || char == "{"
    }

    static func strictYAMLProblem(in node: Node, lines: [Substring], lineOffset: Int) -> String? {
        func at(_ mark: Mark?) -> String {
            guard let mark else { return "" }
            return " (line \(mark.line + lineOffset), column \(mark.column))"
        }
        if node.anchor != nil {
            return "Found confusing disallowed anchor token (surround with ' and ' to make text appear literally)\(at(node.mark))"
        }
        switch node {
        case .alias(let alias):
            return "Found confusing disallowed alias token (surround with ' and ' to make text appear literally)\(at(alias.mark))"
        case .scalar:
            return nil
        case .mapping(let mapping):
            if mapping.style == .flow || isFlow(mapping.mark, lines) {
                return "Found ugly disallowed JSONesque flow mapping (surround with ' and ' to make text appear literally)\(at(mapping.mark))"
            }
            for (key, value) in mapping {
                if let problem = strictYAMLProblem(in: key, lines: lines, lineOffset: lineOffset) ?? strictYAMLProblem(in: value, lines: lines, lineOffset: lineOffset) {
                    return problem
                }
            }
            return nil
        case .sequence(let sequence):
            if sequence.style == .flow || isFlow(sequence.mark, lines) {
                return "Found ugly disallowed JSONesque flow mapping (surround with ' and ' to make text appear literally)\(at(sequence.mark))"
            }
            return sequence.lazy.compactMap { strictYAMLProblem(in: $0, lines: lines, lineOffset: lineOffset) }.first
        }
    }
}

/// Frontmatter parsed once, shared by both verdicts. The parser is kept because it owns the
/// anchors its nodes point to (weakly).
struct ParsedYAML {
    let parser: Parser?
    let root: Result<Node?, Error>

    init(_ text: String) {
        // An explicit encoding: Yams' default reads the whole process environment on every parse.
        let made = Result { try Parser(yaml: text, encoding: .utf8) }
        parser = try? made.get()
        root = made.flatMap { parser in Result { try parser.singleRoot() } }
    }
}

/// A YAML error from Yams, as one line that names the position in SKILL.md.
func YAMLProblem(_ error: Error, lineOffset: Int) -> String {
    guard let error = error as? YamlError else { return "\(error)" }
    func place(_ mark: Mark) -> String { "line \(mark.line + lineOffset), column \(mark.column)" }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
         .composer(let context, let problem, let mark, _):
        let prefix = context.map { "\($0.text): " } ?? ""
        return "\(prefix)\(problem) (\(place(mark)))"
    case .duplicatedKeysInMapping(let duplicates, let context):
        return "Duplicate key '\(duplicates.joined(separator: "', '"))' found (\(place(context.mark)))"
    case .reader(let problem, let offset, _, _):
        return "\(problem) at offset \(offset ?? 0)"
    default:
        return "\(error)"
    }
}

extension String {
    /// `str.strip()` as Python does it: Unicode whitespace off both ends.
    var pythonStripped: String { trimmedWhitespace }

    /// Whitespace (Unicode, newlines included) off both ends, without Foundation's NSString round trip.
    var trimmedWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}

extension Unicode.Scalar {
    /// `str.isalnum()` for one code point, as Python defines it: a letter (Lu, Ll, Lt, Lm, Lo) or
    /// a character with a numeric type.
    var isPythonAlphanumeric: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return properties.numericType != nil
        }
    }
}
