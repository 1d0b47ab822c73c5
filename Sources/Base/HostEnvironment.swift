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
}
