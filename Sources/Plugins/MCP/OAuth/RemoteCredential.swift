import Crypto
import Foundation

/// What a login to a remote server leaves: the tokens, when the access token expires, and what a
/// refresh needs (the token endpoint, the client, the resource). Stored sealed, never in clear.
public struct RemoteCredential: Codable, Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresAt: Date?
    public var scope: String?
    public var tokenEndpoint: String
    public var revocationEndpoint: String?
    public var clientId: String
    public var clientSecret: String?
    /// How the client authenticates at the token endpoint: `none`, `client_secret_post` or `client_secret_basic`.
    public var clientAuth: String
    /// The RFC 8707 resource the tokens are for (the server's canonical URL).
    public var resource: String?
    public var issuer: String?
    public var obtainedAt: Date

    /// Whether the access token expires within `margin` (a refresh is due).
    public func expires(within margin: TimeInterval, now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) < margin
    }
}

/// Seals credentials with AES-GCM under a key derived from the host's secret (a key file beside the
/// database, or an environment variable): the database alone does not open them. The server and
/// agent are bound in as associated data, so a sealed row moved to another agent does not open.
public struct CredentialSealer: Sendable, Equatable {
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(secret: Data) {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: Data("agenthub bridge credentials v1".utf8),
                                             outputByteCount: 32)
        keyBytes = derived.withUnsafeBytes { Data($0) }
    }

    public func seal(_ credential: RemoteCredential, server: String, agent: String) throws -> String {
        let plain = try JSONEncoder().encode(credential)
        let box = try AES.GCM.seal(plain, using: key, authenticating: Self.binding(server, agent))
        guard let combined = box.combined else { throw CredentialSealError() }
        return "v1:" + combined.base64EncodedString()
    }

    public func open(_ sealed: String, server: String, agent: String) throws -> RemoteCredential {
        guard sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))) else { throw CredentialSealError() }
        let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key, authenticating: Self.binding(server, agent))
        return try JSONDecoder().decode(RemoteCredential.self, from: plain)
    }

    private static func binding(_ server: String, _ agent: String) -> Data { Data("\(server)\u{0}\(agent)".utf8) }
}

/// A sealed credential that does not open: another key, or tampered with.
public struct CredentialSealError: Error {}
