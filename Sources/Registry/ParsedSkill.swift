import Base
import Foundation
import Yams

/// One SKILL.md, read: its fields and both verdicts.
///
/// - *loadable*: what a lenient loader accepts. Only an unusable frontmatter (missing, unclosed,
///   unparseable, not a mapping) or a missing/empty description makes a skill not loadable; every
///   other problem is a warning.
/// - *strict*: the reference validator's verdict; `strictErrors` are its exact messages.
public struct ParsedSkill: Sendable, Equatable {
    public var name: String
    public var description: String
    public var license: String?
    public var compatibility: String?
    public var allowedTools: String?
    /// The `metadata` field as written (nested maps kept as JSON objects).
    public var metadata: JSONValue?
    /// Top-level frontmatter fields outside the spec, kept as written (and flagged in `warnings`).
    public var extraFields: [String: JSONValue]
    public var body: String
    public var loadErrors: [String]
    public var warnings: [String]
    public var strictErrors: [String]
    /// Every frontmatter field as the author wrote it, as JSON (a repeated key: its last value):
    /// what the Skills extension serves as a skill's `frontmatter`. Nil when there is no mapping.
    public var frontmatter: JSONValue? = nil

    public var loadable: Bool { loadErrors.isEmpty }
    public var strict: Bool { strictErrors.isEmpty }

    /// Parses SKILL.md bytes found in a directory named `directoryName`.
    /// `fileName` is the name the file was found under (`SKILL.md`, or `skill.md` with a warning).
    public static func parse(_ data: Data, directoryName: String, fileName: String = "SKILL.md") -> ParsedSkill {
        let document = SkillFrontmatter(data: data)
        var skill = ParsedSkill(name: directoryName, description: "", license: nil, compatibility: nil,
                                allowedTools: nil, metadata: nil, extraFields: [:], body: document.body,
                                loadErrors: [], warnings: [], strictErrors: [])
        if let yaml = document.yaml {
            do throws(YAMLBounds.Exceeded) { try YAMLBounds.check(yaml, limit: YAMLBounds.skillFrontmatterNodes) } catch {
                // Refused before any tree is built: composing it could take minutes and gigabytes.
                let reason = "SKILL.md frontmatter expands to more than \(error.limit) YAML nodes through anchors and aliases (by line \(error.line + 1)); not loaded"
                skill.loadErrors = [reason]
                skill.strictErrors = [reason]
                return skill
            }
        }
        let yaml = document.yaml.map(ParsedYAML.init)
        skill.strictErrors = StrictSkillValidator.validate(document, directoryName: directoryName, yaml: yaml)
        if fileName != "SKILL.md" {
            skill.warnings.append("the skill file is named \(fileName); the spec names it SKILL.md")
        }
        skill.warnings += document.notes
        skill.readFields(document, directoryName: directoryName, parsed: yaml)
        // Every strict violation that did not stop loading is a warning of the lenient verdict.
        for message in skill.strictErrors where !skill.warnings.contains(message) && skill.loadable {
            skill.warnings.append(message)
        }
        return skill
    }

    private mutating func readFields(_ document: SkillFrontmatter, directoryName: String, parsed: ParsedYAML?) {
        if let splitError = document.splitError { loadErrors.append(splitError); return }
        let yaml = LenientYAML.dropDuplicateTopLevelKeys(document.yaml ?? "")
        warnings += yaml.warnings
        let root: Node?
        do {
            // Reuse the strict parse unless the lenient repair changed the text.
            if yaml.warnings.isEmpty, let parsed { root = try parsed.root.get() } else { root = try Yams.compose(yaml: yaml.text) }
        } catch {
            loadErrors.append("SKILL.md frontmatter is not valid YAML: \(YAMLProblem(error, lineOffset: 1))")
            return
        }
        guard let root, case .mapping(let mapping) = root else {
            loadErrors.append("SKILL.md frontmatter must be a YAML mapping of fields")
            return
        }
        var fields: [(String, Node)] = []
        for (key, value) in mapping { fields.append((key.string ?? "\(key)", value)) }
        let byName = Dictionary(fields, uniquingKeysWith: { _, last in last })
        frontmatter = .object(byName.mapValues { JSONValue(yaml: $0) })

        switch byName["description"] {
        case .scalar(let s)? where !s.string.pythonStripped.isEmpty:
            description = s.string.pythonStripped
        case nil:
            loadErrors.append("SKILL.md frontmatter has no description")
        default:
            loadErrors.append("SKILL.md description must be a non-empty string")
        }
        if case .scalar(let s)? = byName["name"], !s.string.pythonStripped.isEmpty {
            name = s.string.pythonStripped
        } else {
            warnings.append("SKILL.md has no usable name; the directory name '\(directoryName)' is used")
        }
        license = byName["license"]?.scalar?.string
        compatibility = byName["compatibility"]?.scalar?.string
        switch byName["allowed-tools"] {
        case .scalar(let s)?: allowedTools = s.string
        case .sequence(let seq)?:
            allowedTools = seq.compactMap { $0.scalar?.string }.joined(separator: " ")
            warnings.append("allowed-tools is a list; the spec makes it a space-separated string")
        default: break
        }
        if let meta = byName["metadata"] {
            metadata = JSONValue(yaml: meta)
            if meta.mapping == nil { warnings.append("metadata should be a map of strings") }
        }
        for (key, value) in fields where !StrictSkillValidator.allowedFields.contains(key) {
            extraFields[key] = JSONValue(yaml: value)
        }
    }
}

/// Lenient-loader repairs a strict parser refuses but real repositories rely on.
enum LenientYAML {
    /// Duplicate top-level keys: the last one wins, as PyYAML and most loaders do.
    static func dropDuplicateTopLevelKeys(_ yaml: String) -> (text: String, warnings: [String]) {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var starts: [(key: String, line: Int)] = []
        for (index, line) in lines.enumerated() {
            guard let first = line.first, first != " ", first != "\t", first != "#", first != "-",
                  let colon = line.firstIndex(of: ":") else { continue }
            starts.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces), index))
        }
        let counts = Dictionary(grouping: starts, by: \.key)
        guard counts.values.contains(where: { $0.count > 1 }) else { return (yaml, []) }
        var warnings: [String] = []
        var drop = IndexSet()
        for (position, start) in starts.enumerated() where counts[start.key]!.last!.line != start.line {
            let end = position + 1 < starts.count ? starts[position + 1].line : lines.count
            drop.insert(integersIn: start.line..<end)
            warnings.append("SKILL.md frontmatter repeats '\(start.key)' (line \(start.line + 2)); the last one is used")
        }
        for index in drop.reversed() { lines[index] = "" }
        return (lines.joined(separator: "\n"), warnings)
    }
}
