import Base
import Foundation
import Plugins
import Registry

/// The secret the OAuth logins of remote bridged servers are sealed with: from the variable
/// `host.secret_key_env` names (`AGENTHUB_SECRET_KEY` unless it says otherwise) when set (at least
/// 32 characters; the same on every host of a shared database), else from a file
/// next to the SQLite database (`secret-key`, mode 0600), made by the first host that needs it. The
/// registry alone then does not open a login.
public enum HostSecret {
    public static let environmentVariable = "AGENTHUB_SECRET_KEY"
    public static let fileName = "secret-key"

    public static func load(_ manifest: Manifest, environment: [String: String]) throws(HostError) -> Data {
        let variable = manifest.host.secretKeyEnv
        if let value = environment[variable], !value.isEmpty {
            guard value.utf8.count >= 32 else {
                throw HostError(.keys, "\(variable) must be at least 32 characters (it seals the logins of remote servers); it has \(value.utf8.count)")
            }
            return Data(value.utf8)
        }
        guard let path = filePath(manifest) else {
            throw HostError(.keys, "set \(variable) (host.secret_key_env; at least 32 characters, the same on every host on this database): it seals the logins of remote servers")
        }
        return try KeyPepper.loadFile(path, what: "secret key", remake: "every login to a remote server then needs making again")
    }

    /// The key file beside a SQLite registry; nil for a database elsewhere.
    public static func filePath(_ manifest: Manifest) -> String? {
        guard !PostgresLocation.hasScheme(manifest.host.database) else { return nil }
        return PathText.resolve(fileName, against: PathText.parent(manifest.resolve(manifest.host.database)))
    }

    /// Whether any bridged server logs in with OAuth (only then is a key made).
    public static func needed(_ manifest: Manifest) -> Bool {
        manifest.plugins.mcp?.servers.contains { $0.remote?.oauth != nil } ?? false
    }

    /// The bridge's sealer, or why there is none.
    public static func sealer(_ manifest: Manifest, environment: [String: String]) -> Result<CredentialSealer, HostError> {
        do throws(HostError) { return .success(CredentialSealer(secret: try load(manifest, environment: environment))) } catch { return .failure(error) }
    }
}
