import Base
/// Bounds and filters for finding skills in a source.
public struct DiscoveryOptions: Sendable, Equatable {
    /// Directory levels below the source root searched for SKILL.md.
    public var maxDepth = 6
    /// Folders searched for skills before discovery gives up (skill folders and their contents do not
    /// count). Reaching it makes the snapshot incomplete, and an incomplete snapshot is not published.
    public var maxDirectories = 10_000
    /// Skills one source may hold; more makes the snapshot incomplete.
    public var maxSkills = 100_000
    /// Whether dot-folders (`.claude/skills`) are searched.
    public var includeHidden = false
    /// Only skill directories matching one of these (relative to the source) are taken; empty means all.
    public var paths: [Glob] = []
    /// A file larger than this is listed but its content is not stored (SKILL.md over it is not loadable).
    public var maxFileBytes = 1 << 20
    /// Stored text per skill; files past it are listed but not stored.
    public var maxSkillBytes = 16 << 20
    /// Files listed per skill.
    public var maxFilesPerSkill = 1_000

    public init() {}

    /// Directory names never searched.
    public static let skippedDirectories: Set<String> = [".git", "node_modules"]
}
