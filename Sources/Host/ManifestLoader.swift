import Foundation
import Logging
import Registry
import Yams

/// Loads `registry.yaml`: YAML syntax, then every section, then references between sections.
/// Every problem found is reported at once, each as `file:line:column: message`.
public enum ManifestLoader {
    /// The largest manifest read (real ones are a few kilobytes; parsing is linear, but not free).
    public static let maxBytes = 1 << 20

    /// Reads and validates the manifest at `path`.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(HostError) -> Manifest {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maxBytes {
            throw HostError(.manifestInvalid, "\(path):1:1: the manifest is \(size) bytes, over the limit of \(maxBytes); split it or remove unused entries")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HostError(.manifestUnreadable, "cannot read the manifest \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HostError(.manifestUnreadable, "the manifest \(path) is not valid UTF-8")
        }
        var manifest = try parse(text, file: path, environment: environment)
        manifest.directory = PathText.folder(of: path)
        return manifest
    }

    /// Validates manifest text; `file` names it in messages.
    public static func parse(_ text: String, file: String = "registry.yaml", environment: [String: String] = [:]) throws(HostError) -> Manifest {
        let reader = ManifestReader(file: file, environment: environment)
        if text.utf8.count > maxBytes {
            reader.report(.error, SourceLocation(line: 1, column: 1), "the manifest is \(text.utf8.count) bytes, over the limit of \(maxBytes); split it or remove unused entries")
            throw HostError(.manifestInvalid, "\(file) is too large", diagnostics: reader.diagnostics)
        }
        do throws(YAMLBounds.Exceeded) { try YAMLBounds.check(text, limit: YAMLBounds.manifestNodes) } catch {
            reader.report(.error, SourceLocation(line: error.line, column: 1), "the manifest expands to more than \(error.limit) YAML nodes through anchors and aliases; refused")
            throw HostError(.manifestInvalid, "\(file) expands too far", diagnostics: reader.diagnostics)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let (location, message) = syntaxProblem(error)
            reader.report(.error, location, message)
            throw HostError(.manifestInvalid, "\(file) is not valid YAML", diagnostics: reader.diagnostics)
        }
        guard let root else {
            reader.report(.error, SourceLocation(line: 1, column: 1), "the manifest is empty; it needs at least 'version: 1'")
            throw HostError(.manifestInvalid, "\(file) is empty", diagnostics: reader.diagnostics)
        }
        var manifest = ManifestDecoder(r: reader).decode(root)
        ManifestValidator(r: reader).validate(manifest)
        let sorted = reader.diagnostics.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        if reader.hasErrors {
            let count = sorted.filter { $0.severity == .error }.count
            throw HostError(.manifestInvalid, "\(file) has \(count) problem\(count == 1 ? "" : "s")", diagnostics: sorted)
        }
        manifest.file = file
        manifest.warnings = sorted
        return manifest
    }

    static func syntaxProblem(_ error: Error) -> (SourceLocation, String) {
        guard let error = error as? YamlError else { return (SourceLocation(line: 1, column: 1), "\(error)") }
        func loc(_ mark: Mark) -> SourceLocation { SourceLocation(line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text): " } ?? ""
            let start = context.map { " (the construct starts at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return (loc(mark), "YAML syntax error: \(prefix)\(problem)\(start)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (loc(context.mark), "duplicate key '\(duplicates.joined(separator: "', '"))' in the same mapping")
        default:
            return (SourceLocation(line: 1, column: 1), "YAML error: \(error)")
        }
    }
}
