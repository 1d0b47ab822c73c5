import Base
import Foundation

extension SkillDiscovery {
    /// Reads one skill directory on disk (or the directory of a SKILL.md file given directly), as
    /// `agenthub skills validate` does. Fails when there is no SKILL.md to read.
    public func inspect(path: String) throws(RegistryError) -> DiscoveredSkill {
        var directory = path
        let last = PathText.lastComponent(path)
        if last == "SKILL.md" || last == "skill.md" {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                directory = PathText.folder(of: path)
            }
        }
        let tree = try LocalSkillTree(root: directory, displayName: directory)
        let entries = try tree.entries(in: "")
        guard let marker = entries.first(where: { $0.name == "SKILL.md" }) ?? entries.first(where: { $0.name == "skill.md" }) else {
            throw RegistryError(.skillNotFound, "\(directory) has no SKILL.md")
        }
        let name = PathText.lastComponent(tree.resolvedRoot)
        return readSkill(at: "", marker: marker, entries: entries, tree: tree, directoryName: name)
    }
}
