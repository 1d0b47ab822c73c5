import Base

/// `${VAR}` expansion from the host environment, used where the manifest allows it (commands,
/// arguments and environment of bridged servers, git URLs, the database path).
/// `${VAR:-default}` falls back to a default; `$$` is a literal `$`. An unset variable is an error
/// that names it; nothing else from the environment is read.
enum EnvironmentExpansion {
    static func expand(_ text: String, environment: [String: String], onError: (String) -> Void) -> String? {
        guard text.contains("$") else { return text }
        var result = ""
        var failed = false
        var index = text.startIndex
        while index < text.endIndex {
            let char = text[index]
            guard char == "$" else { result.append(char); index = text.index(after: index); continue }
            let next = text.index(after: index)
            if next < text.endIndex, text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
                continue
            }
            guard next < text.endIndex, text[next] == "{" else { result.append(char); index = next; continue }
            guard let close = text[next...].firstIndex(of: "}") else {
                onError("'${' is not closed by '}' in '\(text)'")
                return nil
            }
            let inner = String(text[text.index(after: next)..<close])
            let parts = inner.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            if !isVariableName(name) {
                onError("'${\(inner)}' does not name an environment variable (letters, digits and _, not starting with a digit)")
                failed = true
            } else if let value = environment[name] {
                result += value
            } else if parts.count == 2 {
                result += parts[1]
            } else {
                onError("environment variable '\(name)' is not set")
                failed = true
            }
            index = text.index(after: close)
        }
        return failed ? nil : result
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

/// `${VAR}` expansion for what a command line names (`agenthub db copy --to 'postgres://u:${PGPASSWORD}@…'`),
/// so a password can stay out of the process list and the shell history.
public enum CommandLineExpansion {
    public static func expand(_ text: String, what: String, environment: [String: String] = HostEnvironment.values) throws(HostError) -> String {
        var problems: [String] = []
        guard let expanded = EnvironmentExpansion.expand(text, environment: environment, onError: { problems.append($0) }), problems.isEmpty else {
            throw HostError(.registry, "\(what): " + problems.joined(separator: "; "))
        }
        return expanded
    }
}
