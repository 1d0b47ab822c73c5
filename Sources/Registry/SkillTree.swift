import Foundation

/// What a directory entry is. Symlinks are recorded as such and never followed.
public enum TreeEntryKind: String, Codable, Sendable {
    case file, directory, symlink, other
}

/// One entry of a directory in a skill source.
public struct TreeEntry: Sendable, Equatable {
    public var name: String
    public var kind: TreeEntryKind
    public var size: Int64
    /// For symlinks, the link text (never resolved).
    public var linkTarget: String?
    /// A cheap identity of the content when it is not read (a git blob id; size and mtime on disk).
    public var fingerprint: String?

    public init(name: String, kind: TreeEntryKind, size: Int64 = 0, linkTarget: String? = nil, fingerprint: String? = nil) {
        self.name = name
        self.kind = kind
        self.size = size
        self.linkTarget = linkTarget
        self.fingerprint = fingerprint
    }
}

/// A read-only view of a skill source's files: a directory on disk, or (GitSync) the tree of a
/// fetched commit. Paths are relative, `/`-separated, and `""` is the root.
public protocol SkillTree: Sendable {
    /// A human name for messages (`./skills`, `anthropic@1a2b3c4`).
    var displayName: String { get }
    /// The entries of a directory, sorted by name.
    func entries(in directory: String) throws(RegistryError) -> [TreeEntry]
    /// Up to `limit` bytes of a regular file. Never follows a symlink.
    func contents(of path: String, limit: Int) throws(RegistryError) -> Data
    /// An id that changes whenever anything under `directory` changes (a git tree id), or nil when the
    /// tree has none. When present it is the digest of a skill at `directory`, and a skill whose
    /// identity the registry already holds is neither listed nor parsed again.
    func directoryIdentity(_ directory: String) -> String?
}

extension SkillTree {
    public func directoryIdentity(_ directory: String) -> String? { nil }
}
