import Crypto
import Foundation

/// Lists the files of one skill directory, reading text files within the per-file and per-skill caps.
struct SkillFileLister<Tree: SkillTree> {
    struct Listed {
        var file: SkillFile
        /// What the digest covers for this file: its content hash, fingerprint or link target.
        var contentIdentity: String
        /// The raw bytes, kept only for the skill's SKILL.md so it is not read a second time to parse.
        var data: Data? = nil
    }

    let options: DiscoveryOptions
    let tree: Tree
    let skillDirectory: String
    /// The skill file's name (`SKILL.md` or `skill.md`), whose bytes are handed back for parsing.
    let markerName: String

    func list(entries rootEntries: [TreeEntry]) -> (files: [Listed], truncated: Bool, capped: Bool) {
        var files: [Listed] = []
        var storedBytes = 0
        var capped = false
        var stack: [(relative: String, entries: [TreeEntry], depth: Int)] = [("", rootEntries, 0)]
        while let (relative, entries, depth) = stack.popLast() {
            for entry in entries {
                let path = join(relative, entry.name)
                switch entry.kind {
                case .directory:
                    if DiscoveryOptions.skippedDirectories.contains(entry.name) || depth + 1 > options.maxDepth { continue }
                    if let children = try? tree.entries(in: join(skillDirectory, path)) {
                        stack.append((path, children, depth + 1))
                    }
                case .symlink:
                    let file = SkillFile(path: path, kind: .symlink, size: entry.size, isBinary: false, text: nil,
                                         linkTarget: entry.linkTarget, note: "symlink; never followed")
                    files.append(Listed(file: file, contentIdentity: "link:\(entry.linkTarget ?? "")"))
                case .other:
                    let file = SkillFile(path: path, kind: .other, size: entry.size, isBinary: true, text: nil, note: "not a regular file")
                    files.append(Listed(file: file, contentIdentity: "other"))
                case .file:
                    var listed = read(entry, at: path)
                    let kept = (listed.file.text?.utf8.count ?? 0) + (listed.file.data?.count ?? 0)
                    if kept > 0, storedBytes + kept > options.maxSkillBytes {
                        listed.file.text = nil
                        listed.file.data = nil
                        listed.file.digest = nil
                        listed.file.note = "not stored: the skill is over its \(options.maxSkillBytes)-byte cap"
                        capped = true
                    } else {
                        storedBytes += kept
                    }
                    files.append(listed)
                }
                if files.count >= options.maxFilesPerSkill {
                    return (files.sorted { $0.file.path < $1.file.path }, true, capped)
                }
            }
        }
        return (files.sorted { $0.file.path < $1.file.path }, false, capped)
    }

    /// Reads one regular file. Text within the per-file cap is kept as text; any other file within
    /// the skill's cap (a binary, a large text) is kept as bytes, and so is text whose bytes its
    /// UTF-8 would not give back. Every file read gets its `sha256:` digest; a file over the
    /// skill's whole cap is not read at all and has none.
    private func read(_ entry: TreeEntry, at path: String) -> Listed {
        var file = SkillFile(path: path, kind: .file, size: entry.size, isBinary: false, text: nil)
        guard entry.size <= Int64(options.maxSkillBytes) else {
            file.note = "not stored: \(entry.size) bytes is over the skill's \(options.maxSkillBytes)-byte cap"
            file.isBinary = true
            return Listed(file: file, contentIdentity: "fingerprint:\(entry.fingerprint ?? "\(entry.size)")")
        }
        let data: Data
        do { data = try tree.contents(of: join(skillDirectory, path), limit: options.maxSkillBytes) } catch {
            file.note = error.message
            return Listed(file: file, contentIdentity: "unreadable")
        }
        let identity = "sha256:" + SHA256.hash(data: data).hex
        file.digest = identity
        file.size = Int64(data.count)
        // Foundation's String(data:encoding:) drops a BOM on Linux: validate, then compare bytes.
        let text = data.prefix(8192).contains(0) ? nil : String(validating: data, as: UTF8.self)
        file.isBinary = text == nil
        if let text, data.count <= options.maxFileBytes {
            file.text = text
            if text.contains("\0") || !text.utf8.elementsEqual(data) { file.data = data }
        } else {
            file.data = data
            if text != nil { file.note = "kept as bytes: \(data.count) bytes is over the \(options.maxFileBytes)-byte text cap" }
        }
        return Listed(file: file, contentIdentity: identity, data: path == markerName ? data : nil)
    }
}
