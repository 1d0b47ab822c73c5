import Crypto
import Foundation

/// One file of a skill, as listed at sync time.
public struct SkillFile: Sendable, Equatable {
    /// Path relative to the skill directory.
    public var path: String
    public var kind: TreeEntryKind
    public var size: Int64
    public var isBinary: Bool
    /// The text, when the file is text and under the caps; nil for binaries, symlinks and capped files.
    public var text: String?
    public var linkTarget: String?
    /// Why the content was not stored, when it was not.
    public var note: String?
    /// `sha256:` and the hex SHA-256 of the file's raw bytes, when the registry keeps them (as text
    /// or as `data`): a file with a digest can be served exactly.
    public var digest: String? = nil
    /// The raw bytes, when they are kept but `text` cannot give them back exactly (binaries, files
    /// over the text cap, text that is not byte-for-byte its UTF-8), so every file within the
    /// skill's cap can be served exactly as its digest says.
    public var data: Data? = nil

    public init(path: String, kind: TreeEntryKind, size: Int64, isBinary: Bool, text: String?, linkTarget: String? = nil,
                note: String? = nil, digest: String? = nil, data: Data? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.isBinary = isBinary
        self.text = text
        self.linkTarget = linkTarget
        self.note = note
        self.digest = digest
        self.data = data
    }
}

/// The Skills extension's per-skill limits (`io.modelcontextprotocol/skills`): what every
/// conforming host must accept. A skill over them is served, and warned about.
public enum SkillLimits {
    public static let maxFiles = 512
    public static let maxBytes: Int64 = 16 << 20

    /// Why a skill of `files` files totalling `bytes` is over the limits, or nil.
    public static func excess(files: Int, bytes: Int64) -> String? {
        var reasons: [String] = []
        if files > maxFiles { reasons.append("\(files) files, over the Skills extension's limit of \(maxFiles)") }
        if bytes > maxBytes { reasons.append("\(bytes) bytes, over the Skills extension's limit of \(maxBytes)") }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}

/// A skill found in a source: where, what its SKILL.md says, its files, and a digest of all of it.
public struct DiscoveredSkill: Sendable, Equatable {
    /// The skill directory relative to the source root (`""` when the root is the skill).
    public var path: String
    public var fileName: String
    public var parsed: ParsedSkill
    public var files: [SkillFile]
    /// SHA-256 over every file's path, kind, size and content: equal digests mean an unchanged skill.
    public var digest: String
    /// True when the digest matched what the registry already holds, so the skill was not parsed
    /// again (`parsed` and `files` are then empty and must not be published).
    public var reused = false

    public init(path: String, fileName: String, parsed: ParsedSkill, files: [SkillFile], digest: String, reused: Bool = false) {
        self.path = path
        self.fileName = fileName
        self.parsed = parsed
        self.files = files
        self.digest = digest
        self.reused = reused
    }
}

/// Everything discovery found in one source at one revision.
public struct SkillSnapshot: Sendable {
    public var skills: [DiscoveredSkill]
    /// Problems with the source as a whole (bounds reached, directories that could not be read).
    public var warnings: [String]
    /// The revision: a git commit id, or for a directory a digest of its skills' digests.
    public var revision: String
    /// Why discovery did not see the whole source (a bound reached, a folder that could not be
    /// read), or nil when it did. An incomplete snapshot is never published: skills it did not see
    /// would be removed.
    public var incomplete: String?

    public init(skills: [DiscoveredSkill], warnings: [String], revision: String? = nil) {
        self.skills = skills
        self.warnings = warnings
        self.revision = revision ?? SkillSnapshot.contentRevision(of: skills)
    }

    /// `local:` plus a SHA-256 of the sorted (path, digest) pairs.
    public static func contentRevision(of skills: [DiscoveredSkill]) -> String {
        var hasher = SHA256()
        for skill in skills.sorted(by: { $0.path < $1.path }) {
            hasher.update(data: Data("\(skill.path)\0\(skill.digest)\n".utf8))
        }
        return "local:" + hasher.finalize().hex
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex (a table lookup: `String(format:)` is slow enough on Linux to dominate a sync).
    /// Inlinable, so callers get a loop specialized for their sequence, not one element at a time
    /// through a protocol witness.
    @inlinable public var hex: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            let high = byte >> 4, low = byte & 0x0F
            bytes.append(high < 10 ? 0x30 + high : 0x57 + high)   // 0-9, a-f
            bytes.append(low < 10 ? 0x30 + low : 0x57 + low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
