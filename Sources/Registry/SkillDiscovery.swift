import Crypto
import Foundation

/// Finds skills in a `SkillTree` within bounds and reads each one: the publish path every source
/// kind (directory or git) goes through.
public struct SkillDiscovery: Sendable {
    public var options: DiscoveryOptions

    public init(options: DiscoveryOptions = DiscoveryOptions()) {
        self.options = options
    }

    /// Walks the tree and returns every skill directory's contents and verdicts.
    /// `known` maps skill paths to the digests the registry already holds: a skill whose digest
    /// matches is hashed but not parsed again (see `DiscoveredSkill.reused`).
    public func snapshot(of tree: some SkillTree, revision: String? = nil, known: [String: String] = [:]) -> SkillSnapshot {
        var warnings: [String] = []
        var skills: [DiscoveredSkill] = []
        var incomplete: String?
        var queue: [(path: String, depth: Int)] = startDirectories(in: tree).map { ($0, $0.split(separator: "/").count) }
        // max_dirs counts the folders searched for skills; skill folders and what is inside them do not count.
        var searched = 0
        var head = 0
        while head < queue.count {
            let (directory, depth) = queue[head]
            head += 1
            let entries: [TreeEntry]
            do { entries = try tree.entries(in: directory) } catch {
                warnings.append(error.message)
                // Skills below it were not seen: publishing would remove them.
                incomplete = incomplete ?? "\(error.message); nothing was published, so no skill below it is removed"
                continue
            }
            if let marker = entries.first(where: { $0.name == "SKILL.md" }) ?? entries.first(where: { $0.name == "skill.md" }) {
                if matchesPaths(directory) {
                    if skills.count >= options.maxSkills {
                        incomplete = "\(tree.displayName): more than \(options.maxSkills) skills; nothing was published"
                        break
                    }
                    skills.append(readSkill(at: directory, marker: marker, entries: entries, tree: tree, known: known[directory]))
                }
                continue  // a skill's subdirectories are its files, not more skills
            }
            searched += 1
            if searched > options.maxDirectories {
                incomplete = "\(tree.displayName): discovery stopped after searching \(options.maxDirectories) folders (max_dirs) without finishing; nothing was published and the last good listing is kept; raise max_dirs"
                break
            }
            for entry in entries where entry.kind == .directory {
                if DiscoveryOptions.skippedDirectories.contains(entry.name) { continue }
                if entry.name.hasPrefix(".") && !options.includeHidden { continue }
                if depth + 1 > options.maxDepth {
                    warnings.append("\(tree.displayName)/\(join(directory, entry.name)): deeper than max_depth \(options.maxDepth); not searched")
                    continue
                }
                queue.append((join(directory, entry.name), depth + 1))
            }
        }
        var snapshot = SkillSnapshot(skills: skills, warnings: warnings, revision: revision)
        snapshot.incomplete = incomplete
        if let incomplete, !warnings.contains(incomplete) { snapshot.warnings.append(incomplete) }
        return snapshot
    }

    /// Where the walk starts: the literal prefixes of the `paths` globs, or the root.
    private func startDirectories(in tree: some SkillTree) -> [String] {
        guard !options.paths.isEmpty else { return [""] }
        let prefixes = Set(options.paths.map { $0.literalPrefix.joined(separator: "/") })
        // Drop a prefix already under another one, so no directory is walked twice.
        return prefixes.filter { p in !prefixes.contains { q in q != p && (q.isEmpty || p.hasPrefix(q + "/")) } }.sorted()
    }

    private func matchesPaths(_ directory: String) -> Bool {
        options.paths.isEmpty || options.paths.contains { $0.matches(directory) }
    }

    func readSkill(at directory: String, marker: TreeEntry, entries: [TreeEntry], tree: some SkillTree,
                   directoryName: String? = nil, known: String? = nil) -> DiscoveredSkill {
        let directoryName = directoryName ?? directory.split(separator: "/").last.map(String.init) ?? tree.displayName.split(separator: "/").last.map(String.init) ?? ""
        let identity = tree.directoryIdentity(directory).map { Self.storageFormat + $0 }
        if let identity, let known, known == identity {
            return DiscoveredSkill(path: directory, fileName: marker.name, parsed: .unreadable(directoryName, "not parsed: unchanged"),
                                   files: [], digest: identity, reused: true)
        }
        let files = SkillFileLister(options: options, tree: tree, skillDirectory: directory, markerName: marker.name).list(entries: entries)
        let digest = identity ?? Self.storageFormat + Self.contentDigest(marker: marker.name, files: files.files)
        if let known, known == digest {
            return DiscoveredSkill(path: directory, fileName: marker.name, parsed: .unreadable(directoryName, "not parsed: unchanged"),
                                   files: [], digest: digest, reused: true)
        }
        let markerPath = join(directory, marker.name)
        var parsed: ParsedSkill
        switch marker.kind {
        case .file where marker.size > Int64(options.maxFileBytes):
            parsed = .unreadable(directoryName, "\(marker.name) is \(marker.size) bytes, over the \(options.maxFileBytes)-byte cap")
        case .file:
            do {
                // The lister already read SKILL.md to hash it; read again only if it could not.
                let data: Data
                if let listed = files.files.first(where: { $0.file.path == marker.name })?.data {
                    data = listed
                } else {
                    data = try tree.contents(of: markerPath, limit: options.maxFileBytes)
                }
                parsed = ParsedSkill.parse(data, directoryName: directoryName, fileName: marker.name)
            } catch {
                parsed = .unreadable(directoryName, error.message)
            }
        case .symlink:
            parsed = .unreadable(directoryName, "\(marker.name) is a symlink to \(marker.linkTarget ?? "?"); symlinks are never followed")
        default:
            parsed = .unreadable(directoryName, "\(marker.name) is not a regular file")
        }
        if files.truncated {
            parsed.warnings.append("the skill has more than \(options.maxFilesPerSkill) files; only the first are listed")
        }
        if files.capped {
            parsed.warnings.append("the skill's files exceed \(options.maxSkillBytes) bytes; later files are listed but not stored")
        }
        let regular = files.files.filter { $0.file.kind == .file }
        if let excess = SkillLimits.excess(files: files.files.count, bytes: regular.reduce(Int64(0)) { $0 + $1.file.size }) {
            parsed.warnings.append("the skill is over the Skills extension's limits (\(excess)); it is served, but MCP hosts may refuse to load it")
        }
        return DiscoveredSkill(path: directory, fileName: marker.name, parsed: parsed, files: files.files.map(\.file), digest: digest)
    }
}

extension SkillDiscovery {
    /// Leads every skill digest: a registry written by an agenthub that stored less of each skill
    /// (before files kept their digests and bytes) holds digests without it, so its skills are read
    /// and published again at their next sync instead of being taken as unchanged.
    public static let storageFormat = "f2:"

    /// SHA-256 over the marker's name and every listed file's path, kind, size and content identity.
    static func contentDigest(marker: String, files: [SkillFileLister<some SkillTree>.Listed]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(marker)\0".utf8))
        for listed in files {
            let file = listed.file
            hasher.update(data: Data("\(file.path)\0\(file.kind.rawValue)\0\(file.size)\0".utf8))
            hasher.update(data: Data(listed.contentIdentity.utf8))
            hasher.update(data: Data("\n".utf8))
        }
        return hasher.finalize().hex
    }
}

func join(_ directory: String, _ name: String) -> String {
    directory.isEmpty ? name : directory + "/" + name
}

extension ParsedSkill {
    /// A skill whose SKILL.md could not be read at all: not loadable, not strict, with one reason.
    public static func unreadable(_ directoryName: String, _ reason: String) -> ParsedSkill {
        ParsedSkill(name: directoryName, description: "", license: nil, compatibility: nil, allowedTools: nil,
                    metadata: nil, extraFields: [:], body: "", loadErrors: [reason], warnings: [], strictErrors: [reason])
    }
}
