import Base
import Registry
import CLibGit2

/// The one error type of GitSync: what kind of failure it is (what the scheduler does next depends
/// on it) and a message naming the source, the URL (credentials redacted) or the ref.
public struct GitError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The deadline passed; the fetch was ended.
        case timeout
        /// The server refused the credentials, or none were available; or a host key or certificate was rejected.
        case auth
        /// The repository, branch, tag or remote HEAD does not exist.
        case notFound = "not found"
        /// The server could not be reached or the transfer broke.
        case network
        /// The fetched tree could not be read as a skill source.
        case validation
        /// The manifest entry cannot work as written (a bad URL, a missing credential, an absent pinned commit):
        /// retrying without a change is pointless.
        case config
        /// The local cache repository or libgit2 itself failed.
        case repository

        /// The registry's name for this failure.
        public var failureKind: SyncFailureKind {
            switch self {
            case .timeout: .timeout
            case .auth: .auth
            case .notFound: .notFound
            case .network: .network
            case .validation, .repository: .validation
            case .config: .config
            }
        }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Turns a libgit2 return code into an error carrying `git_error_last()`'s message, classified.
    static func check(_ code: Int32, _ operation: String, _ subject: String) throws(GitError) {
        guard code < 0 else { return }
        throw last(code, operation, subject)
    }

    static func last(_ code: Int32, _ operation: String, _ subject: String) -> GitError {
        let raw = git_error_last()
        let message = raw.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
        let errorClass = raw.map { Int($0.pointee.klass) } ?? 0
        let kind = classify(code: code, errorClass: errorClass, message: message)
        return GitError(kind, "git \(operation) failed for \(Redaction.url(subject)): \(Redaction.text(message)) (libgit2 error \(code))")
    }

    /// The kind of a libgit2 failure, from its code, error class and message.
    static func classify(code: Int32, errorClass: Int, message: String) -> Kind {
        let text = message.lowercased()
        if code == GIT_EAUTH.rawValue || code == GIT_ECERTIFICATE.rawValue || code == GIT_EUSER.rawValue
            || text.contains("authentication") || text.contains("401") || text.contains("403") || text.contains("credentials")
            || text.contains("host key") || text.contains("certificate") {
            return .auth
        }
        if code == GIT_ENOTFOUND.rawValue || text.contains("404") || text.contains("not found") || text.contains("does not appear to be a git repository")
            || text.contains("not exported") || text.contains("no such file") || text.contains("could not find repository")
            || text.contains("unsupported url protocol") {
            return .notFound
        }
        if errorClass == Int(GIT_ERROR_NET.rawValue) || errorClass == Int(GIT_ERROR_SSL.rawValue) || errorClass == Int(GIT_ERROR_SSH.rawValue)
            || errorClass == Int(GIT_ERROR_HTTP.rawValue) || text.contains("connect") || text.contains("resolve") || text.contains("early eof")
            || text.contains("socket") {
            return .network
        }
        return .repository
    }
}
