import CLibGit2

/// Process-wide libgit2 setup. `git_libgit2_init` is reference-counted and thread-safe; each
/// `GitRepository` holds one reference for its lifetime.
public enum LibGit2 {
    /// The linked libgit2 version, as `major.minor.revision`.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}

/// An open git repository. The handle is freed when the value is released.
public final class GitRepository: @unchecked Sendable {
    public let path: String
    private let handle: OpaquePointer

    private init(path: String, handle: OpaquePointer) {
        self.path = path
        self.handle = handle
    }

    deinit {
        git_repository_free(handle)
        git_libgit2_shutdown()
    }

    /// Opens an existing repository (bare or not) at `path`.
    public static func open(_ path: String) throws(GitError) -> GitRepository {
        git_libgit2_init()
        var repo: OpaquePointer?
        do { try GitError.check(git_repository_open(&repo, path), "open", path) } catch {
            git_libgit2_shutdown()
            throw error
        }
        return GitRepository(path: path, handle: repo!)
    }

    /// Creates a bare repository at `path` (the layout of the sync cache).
    public static func initBare(_ path: String) throws(GitError) -> GitRepository {
        git_libgit2_init()
        var repo: OpaquePointer?
        do { try GitError.check(git_repository_init(&repo, path, 1), "init", path) } catch {
            git_libgit2_shutdown()
            throw error
        }
        return GitRepository(path: path, handle: repo!)
    }

    public var isBare: Bool { git_repository_is_bare(handle) == 1 }

    /// The commit id `reference` (a ref name such as `HEAD` or `refs/heads/main`) resolves to.
    public func resolve(_ reference: String) throws(GitError) -> String {
        var oid = git_oid()
        try GitError.check(git_reference_name_to_id(&oid, handle, reference), "resolve \(reference)", path)
        var buffer = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
        git_oid_tostr(&buffer, buffer.count, &oid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
