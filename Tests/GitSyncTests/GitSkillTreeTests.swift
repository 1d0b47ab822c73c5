import Foundation
import Registry
import Testing
import TestSupport
@testable import GitSync

@Suite struct GitSkillTreeTests {
    func git(_ arguments: [String], in directory: String) throws -> String {
        let result = try run("/usr/bin/env", ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"] + arguments, in: directory)
        guard result.status == 0 else { throw CocoaError(.fileReadUnknown) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theTreeGivesSizesModesAndLinkTargetsWithoutACheckoutAndLeavesSubmodulesOut() throws {
        try withTemporaryDirectory { root in
            _ = try git(["init", "-q", "-b", "main", "work"], in: root)
            let work = root + "/work"
            try write("---\nname: a\ndescription: b\n---\nbody\n", to: "skill/SKILL.md", in: work)
            try write("#!/bin/sh\necho hi\n", to: "skill/run.sh", in: work)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work + "/skill/run.sh")
            try FileManager.default.createSymbolicLink(atPath: work + "/skill/passwd", withDestinationPath: "/etc/passwd")
            _ = try git(["add", "."], in: work)
            // A gitlink (submodule) entry, without fetching anything for it.
            _ = try git(["update-index", "--add", "--cacheinfo", "160000,\(String(repeating: "1", count: 40)),skill/vendored"], in: work)
            _ = try git(["commit", "-q", "-m", "one"], in: work)
            let commit = try git(["rev-parse", "HEAD"], in: work)

            let tree = try GitSkillTree(repository: try GitRepository.open(work), commit: commit, displayName: "test")
            let entries = try tree.entries(in: "skill")
            #expect(entries.map(\.name) == ["SKILL.md", "passwd", "run.sh"])
            #expect(entries[0].kind == .file && entries[0].size == 36)
            #expect(entries[1].kind == .symlink && entries[1].linkTarget == "/etc/passwd")
            #expect(entries[2].kind == .file && entries[2].size == 18)
            #expect(tree.directoryIdentity("skill") == (try git(["rev-parse", "HEAD:skill"], in: work)))
            #expect(String(decoding: try tree.contents(of: "skill/run.sh", limit: 7), as: UTF8.self) == "#!/bin/")
            #expect(throws: RegistryError.self) { try tree.contents(of: "skill/passwd", limit: 100) }
            #expect(throws: RegistryError.self) { try tree.entries(in: "missing") }
        }
    }
}
