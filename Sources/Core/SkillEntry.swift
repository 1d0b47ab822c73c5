import Base
import Foundation
import Registry

/// One skill as the Skills extension (`io.modelcontextprotocol/skills`) and `GET /v1/skills/SOURCE/NAME`
/// describe it: its frontmatter as the author wrote it and the complete list of its files, each with
/// the digest and size of the exact bytes the registry serves. Fronts render it (URIs, JSON); what
/// it holds is decided here once.
public struct SkillEntry: Sendable {
    /// A file the registry serves byte for byte.
    public struct File: Sendable, Equatable {
        public let path: String
        /// `sha256:` and 64 lowercase hex digits over the raw bytes.
        public let digest: String
        public let size: Int64
        /// Whether the bytes are not UTF-8 text.
        public let binary: Bool
    }

    /// A direct child of a directory of the skill.
    public struct Child: Sendable, Equatable {
        public let name: String
        /// Path from the skill root.
        public let path: String
        /// Nil for a subdirectory.
        public let file: File?
    }

    public let skill: SkillRecord
    /// Every field of the SKILL.md frontmatter as written; `name` and `description` always present.
    public let frontmatter: JSONValue
    /// The files served, by path (SKILL.md among them).
    public let files: [File]
    /// Files listed at sync but not served, with why (a symlink, a file past the skill's cap): the
    /// extension has no place for them, so fronts name them beside the entry.
    public let unserved: [(path: String, why: String)]
    /// Bytes of every regular file listed, served or not.
    let listedBytes: Int64

    public init(skill: SkillRecord, listing: [SkillFileRecord]) {
        self.skill = skill
        frontmatter = Self.frontmatter(of: skill)
        var files: [File] = []
        var unserved: [(String, String)] = []
        for file in listing {
            if file.kind == .file, let digest = file.digest {
                files.append(File(path: file.path, digest: digest, size: file.size, binary: file.isBinary))
            } else {
                let why = file.kind != .file ? "a \(file.kind.rawValue), not a regular file"
                    : file.note ?? "published before files kept their digests: the source's next sync adds it"
                unserved.append((file.path, why))
            }
        }
        self.files = files
        self.unserved = unserved
        listedBytes = listing.filter { $0.kind == .file }.reduce(Int64(0)) { $0 + $1.size }
    }

    /// Why the skill is over the extension's limits (512 files, 16 MiB), or nil when it is within
    /// them. Such a skill is still served; a host is not bound to load it.
    public var overLimits: String? {
        SkillLimits.excess(files: files.count + unserved.count, bytes: listedBytes)
    }

    /// The served file at `path`, if any.
    public func file(_ path: String) -> File? { files.first { $0.path == path } }

    /// The direct children of the directory `path` (`""`: the skill root), directories first by
    /// name, then files; nil when `path` is no directory of the skill.
    public func children(of path: String) -> [Child]? {
        let prefix = path.isEmpty ? "" : path + "/"
        var directories = Set<String>()
        var found: [Child] = []
        var exists = path.isEmpty
        for file in files where file.path.hasPrefix(prefix) {
            exists = true
            let rest = file.path.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                directories.insert(String(rest[..<slash]))
            } else {
                found.append(Child(name: String(rest), path: file.path, file: file))
            }
        }
        guard exists else { return nil }
        return directories.sorted().map { Child(name: $0, path: prefix + $0, file: nil) } + found.sorted { $0.name < $1.name }
    }

    /// The stored frontmatter, or for a skill published before it was kept, the fields the registry
    /// read from it.
    static func frontmatter(of skill: SkillRecord) -> JSONValue {
        var object: [String: JSONValue] = [:]
        if let text = skill.frontmatter, case .object(let stored)? = JSONValue.parse(text) {
            object = stored
        } else {
            if let extra = skill.extraFields.flatMap({ JSONValue.parse($0) }), case .object(let fields) = extra { object = fields }
            if let license = skill.license { object["license"] = .string(license) }
            if let compatibility = skill.compatibility { object["compatibility"] = .string(compatibility) }
            if let tools = skill.allowedTools { object["allowed-tools"] = .string(tools) }
            if let metadata = skill.metadata.flatMap({ JSONValue.parse($0) }) { object["metadata"] = metadata }
        }
        if object["name"] == nil { object["name"] = .string(skill.name) }
        if object["description"] == nil { object["description"] = .string(skill.description) }
        return .object(object)
    }
}

extension SkillCatalog {
    /// The entry of `skill` (one the caller was already found to see).
    public func entry(of skill: SkillRecord) async throws(CoreError) -> SkillEntry {
        try await entries(of: [skill])[0]
    }

    /// The entries of several skills, in their order.
    public func entries(of skills: [SkillRecord]) async throws(CoreError) -> [SkillEntry] {
        let listings = try await listings(of: skills)
        return skills.map { SkillEntry(skill: $0, listing: listings[$0.id] ?? []) }
    }

    /// The exact bytes of one file of `skill`, as its digest covers them. A path that is missing,
    /// not a regular file, or not kept is `notFound`, with a message that says which.
    public func bytes(of path: String, in skill: SkillRecord) async throws(CoreError) -> (file: SkillFileRecord, bytes: Data) {
        let found = try await read("read skill '\(skill.name)'") { () throws(RegistryError) in try await store.file(ofSkill: skill.id, path: path) }
        guard let file = found else { throw CoreError(.notFound, "skill '\(skill.name)' has no file '\(path)'") }
        guard file.kind == .file else {
            throw CoreError(.notFound, "'\(path)' in skill '\(skill.name)' is a \(file.kind.rawValue), not a file")
        }
        guard let bytes = file.bytes else {
            throw CoreError(.notFound, "'\(path)' in skill '\(skill.name)' is not kept by the registry" + (file.note.map { " (\($0))" } ?? ""))
        }
        return (file, bytes)
    }
}
