/// Which commit of a remote a source follows.
public enum RefSelector: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The branch the remote's HEAD names (no `ref:` in the manifest).
    case remoteHead
    case branch(String)
    case tag(String)
    /// The highest tag whose version satisfies the range (`^1.2`, `>=1.0 <2`, `~1.4.2`, `1.x`).
    case semver(String)
    /// A pinned commit: 7 to 40 hex digits.
    case commit(String)

    /// How the ref is written in a revision (`REF@COMMIT`) and in messages.
    public var description: String {
        switch self {
        case .remoteHead: "HEAD"
        case .branch(let name), .tag(let name): name
        case .semver(let range): "semver \(range)"
        case .commit(let id): id
        }
    }
}

/// Secrets and trust settings for one fetch. Handed to the worker on its stdin, never on its command
/// line or in its environment, and never logged.
public struct GitCredentials: Codable, Sendable, Equatable {
    /// The user name sent with a token over HTTPS (most forges accept any; GitHub suggests `x-access-token`).
    public var username: String?
    public var token: String?
    public var sshPrivateKey: String?
    public var sshPublicKey: String?
    public var sshPassphrase: String?
    /// known_hosts file checked against the server's SSH host key.
    public var knownHosts: String?
    /// Refuse a host whose key is not in `knownHosts` (a changed key is always refused).
    public var strictHostKeys = true
    /// PEM file of the certificate authorities trusted for HTTPS.
    public var caFile: String?

    public init() {}

    /// Every secret value, for scrubbing text before it is shown.
    public var secrets: [String] { [token, sshPassphrase].compactMap { $0 } }
}

/// What the sync asks the fetch worker to do.
public struct FetchRequest: Codable, Sendable {
    /// The remote URL, credentials included if the manifest wrote them into it.
    public var url: String
    /// The bare cache repository (created when missing).
    public var repository: String
    public var ref: RefSelector
    public var credentials: GitCredentials

    public init(url: String, repository: String, ref: RefSelector, credentials: GitCredentials = GitCredentials()) {
        self.url = url
        self.repository = repository
        self.ref = ref
        self.credentials = credentials
    }

    /// The local ref that holds the last fetched commit of the source.
    public static let trackingRef = "refs/agenthub/fetched"
}

/// What a fetch ended with.
public struct FetchOutcome: Codable, Sendable, Equatable {
    /// The commit the ref resolved to (tags peeled).
    public var commit: String
    /// The remote ref it came from (`refs/heads/main`, `refs/tags/v1.2.0`), or the pinned id.
    public var remoteRef: String
    /// The ref's short name for the revision label (`main`, `v1.2.0`).
    public var label: String
    /// False when the remote had not moved and nothing was downloaded.
    public var downloaded: Bool
    public var receivedObjects = 0
    public var receivedBytes = 0
}

/// One line the worker writes on its stdout.
public enum FetchEvent: Codable, Sendable, Equatable {
    case progress(receivedObjects: Int, totalObjects: Int, receivedBytes: Int)
    case finished(FetchOutcome)
    case failed(kind: GitError.Kind, message: String)
}
