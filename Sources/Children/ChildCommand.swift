import Base
import Foundation

/// What to run: a program, its arguments, the whole environment it gets, and where.
public struct ChildCommand: Sendable, Equatable {
    /// A path, or a name looked up in the child's own `PATH`.
    public var executable: String
    public var arguments: [String]
    /// Exactly the variables the child sees: nothing of the host's environment is added.
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(executable: String, arguments: [String] = [], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// The part of the host's environment a child may inherit: the search path, the home folder and the
/// locale. Secrets (tokens, keys, passwords) are never among them; a child that needs one gets it
/// from its manifest entry's `env`.
public enum ChildEnvironment {
    public static let inheritedNames: Set<String> = ["PATH", "HOME", "LANG", "LANGUAGE"]

    /// `PATH`, `HOME`, `LANG`, `LC_*` from `host`, then `extra` over them.
    public static func filtered(_ host: [String: String], adding extra: [String: String] = [:]) -> [String: String] {
        var result = host.filter { inheritedNames.contains($0.key) || $0.key.hasPrefix("LC_") }
        if result["PATH"] == nil { result["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for (key, value) in extra { result[key] = value }
        return result
    }

    /// What the host's own workers (the fetch worker) get: what any child inherits, plus proxy and
    /// TLS settings and `AGENTHUB_*` and `GIT_*` settings, never a secret-looking name.
    public static func forWorker(_ host: [String: String]) -> [String: String] {
        let prefixes = ["AGENTHUB_", "GIT_", "SSL_CERT", "SSH_AUTH_SOCK", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "TMPDIR"]
        return filtered(host, adding: host.filter { entry in prefixes.contains { entry.key.hasPrefix($0) } && !HostEnvironment.isSecretName(entry.key) })
    }
}

extension ChildCommand {
    /// The `agenthub` executable that runs the host's own children (the fetch worker, the Markdown
    /// renderer, the child-exec shim): `AGENTHUB_BINARY` when set (tests, which run inside the test
    /// runner rather than `agenthub`), else this process's own binary (`/proc/self/exe`).
    public static func agenthub(environment: [String: String]) -> String {
        if let path = environment["AGENTHUB_BINARY"], !path.isEmpty { return path }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

