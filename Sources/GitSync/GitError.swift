import CLibGit2

/// The one error type of GitSync: the operation, the repository, and libgit2's own message.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let repository: String
    public let code: Int32
    public let libraryMessage: String

    public var description: String {
        "git \(operation) failed for \(repository): \(libraryMessage) (libgit2 error \(code))"
    }

    /// Turns a libgit2 return code into an error carrying `git_error_last()`'s message.
    static func check(_ code: Int32, _ operation: String, _ repository: String) throws(GitError) {
        guard code < 0 else { return }
        let message = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
        throw GitError(operation: operation, repository: repository, code: code, libraryMessage: message)
    }
}
