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

/// An open git repository. The handle is freed when the value is released. Not safe for concurrent
/// use: one sync uses it at a time.
/// Sendable, unchecked: it owns a libgit2 handle (a C pointer) that one sync uses at a time.
public final class GitRepository: @unchecked Sendable {
    public let path: String
    let handle: OpaquePointer

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

    /// Opens the bare cache repository at `path`, creating it when it does not exist yet.
    public static func openOrInitBare(_ path: String) throws(GitError) -> GitRepository {
        if let repository = try? open(path) { return repository }
        return try initBare(path)
    }

    public var isBare: Bool { git_repository_is_bare(handle) == 1 }

    /// The commit id `reference` (a ref name such as `HEAD` or `refs/heads/main`) resolves to.
    public func resolve(_ reference: String) throws(GitError) -> String {
        var oid = git_oid()
        try GitError.check(git_reference_name_to_id(&oid, handle, reference), "resolve \(reference)", path)
        return oid.hex
    }

    /// What `reference` points at, or nil when it does not exist.
    public func target(of reference: String) -> String? {
        var oid = git_oid()
        return git_reference_name_to_id(&oid, handle, reference) == 0 ? oid.hex : nil
    }

    /// Whether the object database holds `id` (a full object id).
    public func contains(_ id: String) -> Bool {
        guard var oid = git_oid(hex: id) else { return false }
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, handle) == 0 else { return false }
        defer { git_odb_free(odb) }
        return git_odb_exists(odb, &oid) == 1
    }

    /// The full id of the commit that `id` (full or abbreviated, or a tag pointing at one) names,
    /// or nil when the repository has no such commit.
    public func commit(matching id: String) -> String? {
        var oid = git_oid()
        guard git_oid_fromstrn(&oid, id, id.utf8.count) == 0 else { return nil }
        var object: OpaquePointer?
        guard git_object_lookup_prefix(&object, handle, &oid, id.utf8.count, GIT_OBJECT_ANY) == 0 else { return nil }
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        guard git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) == 0 else { return nil }
        defer { git_object_free(peeled) }
        return git_object_id(peeled).pointee.hex
    }

    /// Points `reference` at `id`, creating or moving it.
    public func setReference(_ reference: String, to id: String) throws(GitError) {
        guard var oid = git_oid(hex: id) else { throw GitError(.repository, "'\(id)' is not an object id") }
        var ref: OpaquePointer?
        try GitError.check(git_reference_create(&ref, handle, reference, &oid, 1, "agenthub sync"), "update \(reference)", path)
        git_reference_free(ref)
    }
}

extension git_oid {
    /// Parses a full 40-digit hex id.
    init?(hex: String) {
        var oid = git_oid()
        guard hex.utf8.count == Int(GIT_OID_HEXSZ), git_oid_fromstr(&oid, hex) == 0 else { return nil }
        self = oid
    }

    /// The 40-digit lowercase hex form.
    var hex: String {
        var copy = self
        var buffer = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
        git_oid_tostr(&buffer, buffer.count, &copy)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
