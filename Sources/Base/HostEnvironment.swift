import Foundation

/// The host's environment as the process started with it. The host scrubs secrets (API keys, tokens)
/// from its live environment once it has read them (`ProcessHardening`); every read of a variable
/// goes through this copy, so a live reload still finds an agent's `key_env` or a source's `token_env`.
public enum HostEnvironment {
    /// Captured on first use; `ProcessHardening.harden` uses it before it scrubs anything.
    public static let values: [String: String] = ProcessInfo.processInfo.environment

    /// Whether a variable's name says it holds a secret (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`,
    /// `*PASSWD*`, `*CREDENTIAL*`, `*AUTH*` but not `SSH_AUTH_SOCK`).
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        if upper == "SSH_AUTH_SOCK" { return false }
        return ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH"].contains { upper.contains($0) }
    }

    /// What the host's own workers (the fetch worker, the Markdown renderer) get: the inherited
    /// basics, proxy and TLS settings, `AGENTHUB_*` and `GIT_*` settings, never a secret-looking name.
    public static func forWorker(_ host: [String: String]) -> [String: String] {
        let prefixes = ["AGENTHUB_", "GIT_", "SSL_CERT", "SSH_AUTH_SOCK", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "TMPDIR"]
        var result = host.filter { entry in prefixes.contains { entry.key.hasPrefix($0) } && !isSecretName(entry.key) }
        for (key, value) in host where key == "PATH" || key == "HOME" || key == "LANG" || key == "LANGUAGE" || key.hasPrefix("LC_") { result[key] = value }
        if result["PATH"] == nil { result["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        return result
    }
}
