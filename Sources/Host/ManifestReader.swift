import Base
import Foundation
import Yams

/// Walks the YAML node tree of a manifest, reading typed values and collecting every problem with
/// its line and column instead of stopping at the first.
final class ManifestReader {
    let file: String
    let environment: [String: String]
    /// The manifest's folder when it was read from a file: files it names (keys, CA bundles, roots)
    /// are checked to exist. Nil for text parsed on its own.
    let directory: String?
    private(set) var diagnostics: [ManifestDiagnostic] = []

    init(file: String, environment: [String: String], directory: String? = nil) {
        self.file = file
        self.environment = environment
        self.directory = directory
    }

    /// `path` resolved against the manifest's folder, or nil when that is not known.
    func resolved(_ path: String) -> String? {
        directory.map { PathText.resolve(path, against: $0, home: HostEnvironment.values["HOME"]) }
    }

    /// Reports an error at `node` when the file `path` (a key, a CA bundle) cannot be read.
    func requireReadableFile(_ path: String?, _ node: Node?, _ label: String) {
        guard let path, let full = resolved(path) else { return }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) {
            error(node, "\(label): \(full) does not exist")
        } else if isDirectory.boolValue {
            error(node, "\(label): \(full) is a folder, not a file")
        } else if !FileManager.default.isReadableFile(atPath: full) {
            error(node, "\(label): \(full) cannot be read (permission denied)")
        }
    }

    static func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(line: 1, column: 1) }
        return SourceLocation(line: mark.line, column: mark.column)
    }

    func error(_ node: Node?, _ message: String) {
        report(.error, Self.location(node), message)
    }

    func warning(_ node: Node?, _ message: String) {
        report(.warning, Self.location(node), message)
    }

    /// Records a problem. Messages echo values from the file, so they are redacted like everything else shown.
    func report(_ severity: ManifestDiagnostic.Severity, _ location: SourceLocation, _ message: String) {
        diagnostics.append(ManifestDiagnostic(file: file, location: location, severity: severity, message: Redaction.text(message)))
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The entries of a mapping, with unknown keys reported (with a "did you mean" when one is close)
    /// and missing required keys reported at the mapping. Nil (and an error) when `node` is not a mapping.
    func mapping(_ node: Node, _ path: String, known: [String], required: [String] = []) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(path) must be a mapping, found \(describe(node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error(keyNode, "\(path) has a key that is not a string")
                continue
            }
            if !known.isEmpty && !known.contains(key) {
                let hint = Suggestion.closest(to: key, in: known).map { "; did you mean '\($0)'?" } ?? ""
                error(keyNode, "unknown key '\(key)' in \(path)\(hint)")
                continue
            }
            result[key] = value
        }
        for key in required where result[key] == nil {
            error(node, "\(path) is missing required key '\(key)'")
        }
        return result
    }

    /// The entries of a mapping whose keys are names the user chooses (roles, groups, servers), in file order.
    func namedEntries(_ node: Node, _ path: String) -> [(name: String, key: Node, value: Node)] {
        guard case .mapping(let mapping) = node else {
            error(node, "\(path) must be a mapping of names, found \(describe(node))")
            return []
        }
        return mapping.compactMap { keyNode, value in
            guard let name = keyNode.scalar?.string else {
                error(keyNode, "\(path) has a key that is not a string")
                return nil
            }
            return (name, keyNode, value)
        }
    }

    func string(_ node: Node?, _ path: String, expand: Bool = false) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, !Self.isNull(scalar, node) else {
            error(node, "\(path) must be a string, found \(describe(node))")
            return nil
        }
        guard expand else { return scalar.string }
        return EnvironmentExpansion.expand(scalar.string, environment: environment) { message in
            self.error(node, "\(path): \(message)")
        }
    }

    /// Whether a scalar is null. An untagged scalar is read without Yams' tag resolver (a regular
    /// expression per scalar, most of a reload's time): null is a plain `~`, `null`, `Null`, `NULL` or nothing.
    static func isNull(_ scalar: Node.Scalar, _ node: Node) -> Bool {
        let tag = scalar.tag.description
        guard tag.isEmpty else { return node.tag.description == Tag.Name.null.rawValue }
        guard scalar.style == .plain else { return false }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    func int(_ node: Node?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard case .scalar = node, let value = node.int, node.tag.description == Tag.Name.int.rawValue else {
            error(node, "\(path) must be an integer, found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(node, "\(path) must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    func double(_ node: Node?, _ path: String, range: ClosedRange<Double>) -> Double? {
        guard let node else { return nil }
        let tag = node.tag.description
        guard case .scalar = node, tag == Tag.Name.float.rawValue || tag == Tag.Name.int.rawValue, let value = node.float else {
            error(node, "\(path) must be a number, found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(node, "\(path) must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar = node, node.tag.description == Tag.Name.bool.rawValue, let value = node.bool else {
            error(node, "\(path) must be true or false, found \(describe(node))")
            return nil
        }
        return value
    }

    func duration(_ node: Node?, _ path: String) -> ManifestDuration? {
        guard let text = string(node, path) else { return nil }
        do { return try ManifestDuration(parsing: text) } catch {
            self.error(node, "\(path): \(error.description)")
            return nil
        }
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, _ type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let options = T.allCases.map(\.rawValue)
        let hint = Suggestion.closest(to: text, in: options).map { "; did you mean '\($0)'?" } ?? ""
        error(node, "\(path) must be one of \(options.joined(separator: ", ")), found '\(text)'\(hint)")
        return nil
    }

    /// A list of strings, each with its node (for locations).
    func stringList(_ node: Node?, _ path: String, expand: Bool = false) -> [(String, Node)] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            error(node, "\(path) must be a list, found \(describe(node))")
            return []
        }
        return sequence.enumerated().compactMap { index, item in
            string(item, "\(path)[\(index)]", expand: expand).map { ($0, item) }
        }
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return "nothing"
            case Tag.Name.bool.rawValue: return "a boolean (\(scalar.string))"
            case Tag.Name.int.rawValue: return "an integer (\(scalar.string))"
            case Tag.Name.float.rawValue: return "a number (\(scalar.string))"
            default: return "a string ('\(scalar.string)')"
            }
        }
    }
}
