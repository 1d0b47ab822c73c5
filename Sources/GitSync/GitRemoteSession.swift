import CLibGit2
import Foundation

/// A ref a remote advertises.
public struct RemoteRef: Sendable, Equatable {
    public var name: String
    public var id: String
    /// For `HEAD`: the branch it names, when the server says.
    public var symrefTarget: String?

    public init(name: String, id: String, symrefTarget: String? = nil) {
        self.name = name
        self.id = id
        self.symrefTarget = symrefTarget
    }
}

/// What the callbacks of one connection share: the credentials, how often they were asked for,
/// and the reason a callback refused (libgit2's own message for a refusal is vague).
final class RemoteCallbackState {
    let credentials: GitCredentials
    let host: String
    var secretAttempts = 0
    var refusal: GitError?
    var received = (objects: 0, total: 0, bytes: 0)
    var lastReport = 0.0
    let onProgress: (Int, Int, Int) -> Void

    init(credentials: GitCredentials, host: String, onProgress: @escaping (Int, Int, Int) -> Void) {
        self.credentials = credentials
        self.host = host
        self.onProgress = onProgress
    }
}

/// One connection to a remote from the fetch worker: list its refs, then download chosen ones into
/// the cache repository. Runs only inside the worker process, which the host kills at the deadline.
final class GitRemoteSession {
    let repository: GitRepository
    let url: String
    let state: RemoteCallbackState
    private var remote: OpaquePointer?
    private var callbacks = git_remote_callbacks()

    init(repository: GitRepository, url: String, credentials: GitCredentials, onProgress: @escaping (Int, Int, Int) -> Void) throws(GitError) {
        self.repository = repository
        self.url = url
        self.state = RemoteCallbackState(credentials: credentials, host: Self.host(of: url), onProgress: onProgress)
        try GitError.check(git_remote_create_anonymous(&remote, repository.handle, url), "open remote", url)
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.credentials = credentialCallback
        callbacks.certificate_check = certificateCallback
        callbacks.transfer_progress = progressCallback
        callbacks.payload = Unmanaged.passUnretained(state).toOpaque()
    }

    deinit {
        if let remote {
            git_remote_disconnect(remote)
            git_remote_free(remote)
        }
    }

    /// The error a failed libgit2 call stands for: a callback's own reason when one refused.
    private func failure(_ code: Int32, _ operation: String) -> GitError {
        state.refusal ?? GitError.last(code, operation, url)
    }

    func connect() throws(GitError) {
        let code = withExtendedLifetime(state) { git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nil, nil) }
        if code < 0 { throw failure(code, "connect") }
    }

    /// The refs the remote advertises (`git_remote_ls`: no objects are downloaded).
    func list() throws(GitError) -> [RemoteRef] {
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        let code = git_remote_ls(&heads, &count, remote)
        if code < 0 { throw failure(code, "list refs") }
        var refs: [RemoteRef] = []
        for index in 0..<count {
            guard let head = heads?[index]?.pointee else { continue }
            refs.append(RemoteRef(name: String(cString: head.name), id: head.oid.hex,
                                  symrefTarget: head.symref_target.map { String(cString: $0) }))
        }
        return refs
    }

    /// Downloads what `refspecs` name (no tags beyond them) and updates the local refs they map to.
    func download(_ refspecs: [String]) throws(GitError) {
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.callbacks = callbacks
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        options.update_fetchhead = 0
        options.prune = GIT_FETCH_NO_PRUNE
        let code = withStringArray(refspecs) { array in
            withExtendedLifetime(state) {
                var specs = array
                let downloaded = git_remote_download(remote, &specs, &options)
                guard downloaded == 0 else { return downloaded }
                return git_remote_update_tips(remote, &callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "agenthub fetch")
            }
        }
        if code < 0 { throw failure(code, "fetch") }
    }

    static func host(of url: String) -> String {
        if let scheme = url.range(of: "://") {
            var rest = url[scheme.upperBound...]
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            return String(rest)
        }
        // scp-like: user@host:path
        var rest = Substring(url)
        if let at = rest.firstIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(rest.prefix { $0 != ":" })
    }
}

/// Calls `body` with a `git_strarray` of `strings` (valid only during the call).
func withStringArray<T>(_ strings: [String], _ body: (git_strarray) -> T) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        body(git_strarray(strings: buffer.baseAddress, count: buffer.count))
    }
}

private func state(_ payload: UnsafeMutableRawPointer?) -> RemoteCallbackState {
    Unmanaged<RemoteCallbackState>.fromOpaque(payload!).takeUnretainedValue()
}

/// Answers a server's request for credentials once. A second request for secrets means the first
/// was refused: it fails instead of asking again, so authentication never loops.
private let credentialCallback: git_credential_acquire_cb = { out, _, usernameFromURL, allowed, payload in
    let s = state(payload)
    let c = s.credentials
    let user = c.username ?? usernameFromURL.map { String(cString: $0) }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0, allowed & GIT_CREDENTIAL_SSH_KEY.rawValue == 0 {
        return git_credential_username_new(out, user ?? "git")
    }
    if s.secretAttempts > 0 {
        s.refusal = GitError(.auth, "authentication to \(s.host) failed: the server refused the configured credentials")
        return GIT_EUSER.rawValue
    }
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, let key = c.sshPrivateKey {
        s.secretAttempts += 1
        return git_credential_ssh_key_new(out, user ?? "git", c.sshPublicKey, key, c.sshPassphrase)
    }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = c.token {
        s.secretAttempts += 1
        return git_credential_userpass_plaintext_new(out, user ?? "x-access-token", token)
    }
    s.refusal = GitError(.auth, "\(s.host) asks for credentials and the source has none that fit (set token_env, token_file or ssh_key)")
    return GIT_EUSER.rawValue
}

/// Checks an SSH host key against known_hosts; leaves TLS certificates to libgit2's own verification
/// (against `ca_file` when one is set), naming the problem when it fails.
private let certificateCallback: git_transport_certificate_check_cb = { cert, valid, host, payload in
    let s = state(payload)
    let hostName = host.map { String(cString: $0) } ?? s.host
    guard let cert else { return -1 }
    if cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 {
        let key = UnsafeRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        guard key.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = key.hostkey else {
            s.refusal = GitError(.auth, "\(hostName) sent no SSH host key to check")
            return GIT_ECERTIFICATE.rawValue
        }
        let blob = Data(bytes: raw, count: key.hostkey_len)
        let file = s.credentials.knownHosts ?? (NSHomeDirectory() + "/.ssh/known_hosts")
        switch KnownHosts.check(host: s.host, key: blob, file: file) {
        case .match: return 0
        case .mismatch:
            s.refusal = GitError(.auth, "the SSH host key of \(hostName) does not match \(file): refusing to connect")
            return GIT_ECERTIFICATE.rawValue
        case .unknown:
            if !s.credentials.strictHostKeys { return 0 }
            s.refusal = GitError(.auth, "\(hostName) is not in \(file) (strict host key checking; add its key or set strict_host_keys: false)")
            return GIT_ECERTIFICATE.rawValue
        }
    }
    if valid != 0 { return 0 }
    let ca = s.credentials.caFile.map { " (ca_file \($0))" } ?? " (set ca_file to trust a private CA)"
    s.refusal = GitError(.auth, "the TLS certificate of \(hostName) is not trusted\(ca)")
    return GIT_ECERTIFICATE.rawValue
}

private let progressCallback: git_indexer_progress_cb = { stats, payload in
    guard let stats else { return 0 }
    let s = state(payload)
    s.received = (Int(stats.pointee.received_objects), Int(stats.pointee.total_objects), Int(stats.pointee.received_bytes))
    let now = Date().timeIntervalSince1970
    if now - s.lastReport >= 0.2 || stats.pointee.received_objects == stats.pointee.total_objects {
        s.lastReport = now
        s.onProgress(s.received.objects, s.received.total, s.received.bytes)
    }
    return 0
}
