/// The one error type of the Host module. A manifest error carries every problem found, each
/// printed as `file:line:column: message`.
public struct HostError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case manifestUnreadable
        case manifestInvalid
        case sourceNotFound
        case registry
        /// A plugin could not be set up (two plugins offering one tool name, an invalid tool name).
        case plugin
        /// An identity that does not fit the manifest (unknown role or group, a role outside its group).
        case caller
        /// An API key could not be made, stored or checked (a bad pepper, an undeclared agent).
        case keys
        /// A client's MCP configuration could not be read or written (`agenthub client setup`).
        case clientSetup
    }

    public let code: Code
    public let message: String
    /// For `manifestInvalid`: every problem, in file order.
    public let diagnostics: [ManifestDiagnostic]

    public init(_ code: Code, _ message: String, diagnostics: [ManifestDiagnostic] = []) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.isEmpty ? message : diagnostics.map(\.description).joined(separator: "\n")
    }

    /// Each error it stands for, one line each (`file:line:column: message` for a manifest's).
    public var problems: [String] {
        diagnostics.isEmpty ? [message] : diagnostics.filter { $0.severity == .error }.map(\.description)
    }
}

/// A place in the manifest (1-based line and column).
public struct SourceLocation: Codable, Sendable, Hashable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// One problem in a manifest.
public struct ManifestDiagnostic: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable { case error, warning }
    public var file: String
    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    public var description: String {
        "\(file):\(location.line):\(location.column): \(severity == .warning ? "warning: " : "")\(message)"
    }

    /// `file:line:column: message`, for a log line whose level already says warning or error.
    public var located: String { "\(file):\(location.line):\(location.column): \(message)" }
}
