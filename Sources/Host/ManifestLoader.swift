import Base
import Registry
import Foundation
import Logging
import Yams
import Crypto

/// Loads `registry.yaml`: YAML syntax, then every section, then references between sections.
/// Every problem found is reported at once, each as `file:line:column: message`.
public enum ManifestLoader {
    /// The largest manifest read (real ones are a few kilobytes; parsing is linear, but not free).
    public static let maxBytes = 1 << 20

    /// Reads and validates the manifest at `path`.
    public static func load(path: String, environment: [String: String] = HostEnvironment.values) throws(HostError) -> Manifest {
        try loadWithRevision(path: path, environment: environment).manifest
    }

    /// Reads and validates the manifest at `path`, with its revision: the first 12 hex digits of the
    /// SHA-256 of the bytes read (the same read, so the two always match).
    public static func loadWithRevision(path: String, environment: [String: String] = HostEnvironment.values)
        throws(HostError) -> (manifest: Manifest, revision: String) {
        let data = try read(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw HostError(.manifestUnreadable, "the manifest \(path) is not valid UTF-8")
        }
        var manifest = try parse(text, file: path, environment: environment, directory: PathText.folder(of: path))
        manifest.directory = PathText.folder(of: path)
        return (manifest, revision(of: data))
    }

    /// The manifest's bytes: a regular file (through symlinks), read up to the size limit. A FIFO or a
    /// device (`/dev/zero`) would block a reload forever or fill memory; they are refused.
    static func read(_ path: String) throws(HostError) -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HostError(.manifestUnreadable, "cannot read the manifest \(path): \(errno == ENOENT ? "no such file" : String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw HostError(.manifestUnreadable, "the manifest \(path) is not a regular file")
        }
        if Int(info.st_size) > maxBytes {
            throw HostError(.manifestInvalid, "\(path):1:1: the manifest is \(info.st_size) bytes, over the limit of \(maxBytes); split it or remove unused entries")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw HostError(.manifestUnreadable, "cannot read the manifest \(path): permission denied")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        if data.count > maxBytes {
            throw HostError(.manifestInvalid, "\(path):1:1: the manifest is over the limit of \(maxBytes) bytes; split it or remove unused entries")
        }
        return data
    }

    /// The revision of manifest bytes: the first 12 hex digits of their SHA-256.
    public static func revision(of data: Data) -> String {
        String(SHA256.hash(data: data).hex.prefix(12))
    }

    /// Validates manifest text; `file` names it in messages.
    /// `directory`, when given, is the manifest's folder: files the manifest names are checked to exist.
    public static func parse(_ text: String, file: String = "registry.yaml", environment: [String: String] = [:],
                             directory: String? = nil) throws(HostError) -> Manifest {
        let reader = ManifestReader(file: file, environment: environment, directory: directory)
        if text.utf8.count > maxBytes {
            reader.report(.error, SourceLocation(line: 1, column: 1), "the manifest is \(text.utf8.count) bytes, over the limit of \(maxBytes); split it or remove unused entries")
            throw HostError(.manifestInvalid, "\(file) is too large", diagnostics: reader.diagnostics)
        }
        // Composed by our own composer: bounded through aliases, and a repeated key is one problem
        // among the others rather than the end of the check.
        let composed: YAMLComposer.Result
        do throws(YAMLComposer.Failure) { composed = try YAMLComposer.compose(text, maxNodes: YAMLBounds.manifestNodes) } catch {
            switch error {
            case .tooLarge(let exceeded):
                reader.report(.error, SourceLocation(line: exceeded.line, column: 1), "the manifest expands to more than \(exceeded.limit) YAML nodes through anchors and aliases; refused")
            case .syntax(let problem, let line, let column):
                reader.report(.error, SourceLocation(line: line, column: column), "YAML syntax error: \(problem)")
            case .undefinedAlias(let name, let line, let column):
                reader.report(.error, SourceLocation(line: line, column: column), "YAML alias '*\(name)' names no anchor defined before it")
            }
            throw HostError(.manifestInvalid, "\(file) is not valid YAML", diagnostics: reader.diagnostics)
        }
        for duplicate in composed.duplicates {
            reader.report(.error, SourceLocation(line: duplicate.line, column: duplicate.column),
                          "duplicate key '\(duplicate.key)' in the same mapping (first at line \(duplicate.firstLine))")
        }
        let root = composed.root
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
}
