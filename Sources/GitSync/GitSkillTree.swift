import Registry
import CLibGit2
import Foundation

/// A skill source read straight from the tree of a fetched commit in the bare cache repository:
/// no checkout. Sizes and modes come from the tree and the object headers, symlinks are recorded with
/// their target and never followed, submodules (gitlinks) are left out, and a directory's identity
/// is its git tree id, which serves as the skill's digest.
/// Sendable, unchecked: it owns libgit2 handles (C pointers); one sync reads it at a time.
public final class GitSkillTree: SkillTree, @unchecked Sendable {
    public let displayName: String
    public let commit: String
    private let repository: GitRepository
    private let odb: OpaquePointer
    private let root: OpaquePointer
    private var trees: [String: OpaquePointer] = [:]
    private let lock = NSLock()

    /// Opens the tree of `commit` (a full id) in `repository`.
    public init(repository: GitRepository, commit: String, displayName: String) throws(GitError) {
        self.repository = repository
        self.commit = commit
        self.displayName = displayName
        guard var oid = git_oid(hex: commit) else { throw GitError(.validation, "\(displayName): '\(commit)' is not a commit id") }
        var object: OpaquePointer?
        try GitError.check(git_commit_lookup(&object, repository.handle, &oid), "read commit \(commit)", repository.path)
        defer { git_commit_free(object) }
        var tree: OpaquePointer?
        try GitError.check(git_commit_tree(&tree, object), "read the tree of \(commit)", repository.path)
        var database: OpaquePointer?
        do { try GitError.check(git_repository_odb(&database, repository.handle), "open the object database", repository.path) } catch {
            git_tree_free(tree)
            throw error
        }
        self.root = tree!
        self.odb = database!
    }

    deinit {
        for tree in trees.values { git_tree_free(tree) }
        git_tree_free(root)
        git_odb_free(odb)
    }

    /// The tree at `directory` (`""` is the root), looked up once and kept, through its cached parent
    /// (libgit2 does not cache large trees; looking each path up from the root re-inflates them).
    private func tree(at directory: String) throws(RegistryError) -> OpaquePointer {
        if directory.isEmpty { return root }
        if let cached = trees[directory] { return cached }
        let slash = directory.lastIndex(of: "/")
        let parent = try tree(at: slash.map { String(directory[..<$0]) } ?? "")
        let name = slash.map { String(directory[directory.index(after: $0)...]) } ?? directory
        guard let entry = git_tree_entry_byname(parent, name) else {
            throw RegistryError(.io, "\(displayName)/\(directory) does not exist in the tree")
        }
        guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
            throw RegistryError(.io, "\(displayName)/\(directory) is not a directory")
        }
        var tree: OpaquePointer?
        guard git_tree_lookup(&tree, repository.handle, git_tree_entry_id(entry)) == 0, let tree else {
            throw RegistryError(.io, "cannot read \(displayName)/\(directory): \(GitError.last(-1, "read tree", repository.path).message)")
        }
        trees[directory] = tree
        return tree
    }

    public func entries(in directory: String) throws(RegistryError) -> [TreeEntry] {
        lock.lock()
        defer { lock.unlock() }
        let tree = try tree(at: directory)
        var result: [TreeEntry] = []
        let count = git_tree_entrycount(tree)
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            let id = git_tree_entry_id(entry)!
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                result.append(TreeEntry(name: name, kind: .directory, fingerprint: id.pointee.hex))
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                result.append(TreeEntry(name: name, kind: .file, size: size(of: id), fingerprint: id.pointee.hex))
            case GIT_FILEMODE_LINK:
                let target = blobText(id, limit: 4096)
                result.append(TreeEntry(name: name, kind: .symlink, size: size(of: id), linkTarget: target, fingerprint: id.pointee.hex))
            case GIT_FILEMODE_COMMIT:
                continue  // a submodule: its content is another repository, never fetched
            default:
                result.append(TreeEntry(name: name, kind: .other, fingerprint: id.pointee.hex))
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    public func contents(of path: String, limit: Int) throws(RegistryError) -> Data {
        lock.lock()
        defer { lock.unlock() }
        // Through the cached parent tree: libgit2 does not cache large trees, so a lookup from the root
        // per file would inflate the same big directory trees again and again.
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let parent = try tree(at: directory)
        guard let entry = git_tree_entry_byname(parent, name) else {
            throw RegistryError(.io, "cannot read \(displayName)/\(path): not in the tree")
        }
        let mode = git_tree_entry_filemode(entry)
        guard mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE else {
            let why = mode == GIT_FILEMODE_LINK ? "it is a symlink, and symlinks are never followed" : "not a regular file"
            throw RegistryError(.io, "cannot read \(displayName)/\(path): \(why)")
        }
        var blob: OpaquePointer?
        guard git_blob_lookup(&blob, repository.handle, git_tree_entry_id(entry)) == 0 else {
            throw RegistryError(.io, "cannot read \(displayName)/\(path): \(GitError.last(-1, "read blob", repository.path).message)")
        }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard let raw = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: raw, count: min(size, limit))
    }

    public func directoryIdentity(_ directory: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if directory.isEmpty { return git_tree_id(root).pointee.hex }
        return (try? tree(at: directory)).map { git_tree_id($0).pointee.hex }
    }

    /// An object's size from its header (a packed object's delta is not applied to learn it).
    private func size(of id: UnsafePointer<git_oid>) -> Int64 {
        var length = 0
        var type = GIT_OBJECT_ANY
        return git_odb_read_header(&length, &type, odb, id) == 0 ? Int64(length) : 0
    }

    private func blobText(_ id: UnsafePointer<git_oid>, limit: Int) -> String? {
        var blob: OpaquePointer?
        guard git_blob_lookup(&blob, repository.handle, id) == 0 else { return nil }
        defer { git_blob_free(blob) }
        let size = min(Int(git_blob_rawsize(blob)), limit)
        guard let raw = git_blob_rawcontent(blob) else { return nil }
        return String(decoding: Data(bytes: raw, count: size), as: UTF8.self)
    }
}
