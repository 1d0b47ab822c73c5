import Base
import Crypto
import Foundation
import Testing
@testable import Registry

@Suite struct DiscoveryTests {
    func discover(_ root: String, _ configure: (inout DiscoveryOptions) -> Void = { _ in }) throws -> SkillSnapshot {
        var options = DiscoveryOptions()
        configure(&options)
        return SkillDiscovery(options: options).snapshot(of: try LocalSkillTree(root: root))
    }

    @Test func skillsAreFoundAtAnyDepthWithinTheBound() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("top"), to: "top/SKILL.md", in: root)
            try write(skillMarkdown("deep"), to: "a/b/c/deep/SKILL.md", in: root)
            try write(skillMarkdown("too-deep"), to: "a/b/c/d/e/f/too-deep/SKILL.md", in: root)
            let snapshot = try discover(root) { $0.maxDepth = 6 }
            #expect(snapshot.skills.map(\.path).sorted() == ["a/b/c/deep", "top"])
            #expect(snapshot.warnings.contains { $0.contains("deeper than max_depth 6") })
        }
    }

    @Test func theDirectoryBoundCountsFoldersSearchedNotSkillFolders() throws {
        try withTemporaryDirectory { root in
            for i in 0..<30 { try write(skillMarkdown("s\(i)"), to: "s\(i)/SKILL.md", in: root) }
            try write(skillMarkdown("with-refs"), to: "with-refs/SKILL.md", in: root)
            for i in 0..<20 { try write("ref", to: "with-refs/references/r\(i)/notes.md", in: root) }
            let snapshot = try discover(root) { $0.maxDirectories = 2 }
            #expect(snapshot.skills.count == 31)
            #expect(snapshot.incomplete == nil)
        }
    }

    @Test func reachingTheDirectoryBoundMakesTheSnapshotIncomplete() throws {
        try withTemporaryDirectory { root in
            for i in 0..<12 { try write(skillMarkdown("s\(i)"), to: "group\(i)/s\(i)/SKILL.md", in: root) }
            let snapshot = try discover(root) { $0.maxDirectories = 5 }
            #expect(snapshot.incomplete?.contains("max_dirs") == true)
            #expect(snapshot.warnings.contains { $0.contains("nothing was published") })
        }
    }

    @Test func gitAndNodeModulesAreSkippedAndDotFoldersOnlyWhenAsked() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("in-git"), to: ".git/in-git/SKILL.md", in: root)
            try write(skillMarkdown("in-modules"), to: "node_modules/in-modules/SKILL.md", in: root)
            try write(skillMarkdown("hidden"), to: ".claude/skills/hidden/SKILL.md", in: root)
            try write(skillMarkdown("visible"), to: "visible/SKILL.md", in: root)
            #expect(try discover(root).skills.map(\.path) == ["visible"])
            #expect(try discover(root) { $0.includeHidden = true }.skills.map(\.path).sorted() == [".claude/skills/hidden", "visible"])
        }
    }

    @Test func pathGlobsChooseWhichSkillDirectoriesAreTaken() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("pdf"), to: "skills/pdf/SKILL.md", in: root)
            try write(skillMarkdown("docx"), to: "skills/office/docx/SKILL.md", in: root)
            try write(skillMarkdown("other"), to: "examples/other/SKILL.md", in: root)
            let all = try discover(root) { $0.paths = [try! Glob("skills/**", mode: .path)] }
            #expect(all.skills.map(\.path).sorted() == ["skills/office/docx", "skills/pdf"])
            let one = try discover(root) { $0.paths = [try! Glob("skills/*", mode: .path)] }
            #expect(one.skills.map(\.path) == ["skills/pdf"])
        }
    }

    @Test func aLowercaseSkillFileIsAcceptedWithAWarning() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("lower"), to: "lower/skill.md", in: root)
            let skill = try #require(try discover(root).skills.first)
            #expect(skill.fileName == "skill.md")
            #expect(skill.parsed.loadable)
            #expect(skill.parsed.warnings.contains { $0.contains("named skill.md") })
        }
    }

    @Test func aSymlinkPointingOutsideTheSourceIsRecordedAndNeverRead() throws {
        try withTemporaryDirectory { root in
            try write("secret contents", to: "outside/secret.txt", in: root)
            let source = root + "/source"
            try write(skillMarkdown("linked"), to: "linked/SKILL.md", in: source)
            try FileManager.default.createSymbolicLink(atPath: source + "/linked/passwd", withDestinationPath: "/etc/passwd")
            try FileManager.default.createSymbolicLink(atPath: source + "/linked/secret.txt", withDestinationPath: root + "/outside/secret.txt")
            try FileManager.default.createSymbolicLink(atPath: source + "/linked/dir", withDestinationPath: root + "/outside")
            try FileManager.default.createDirectory(atPath: source + "/evil", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: source + "/evil/SKILL.md", withDestinationPath: root + "/outside/secret.txt")
            let snapshot = try discover(source)
            let linked = try #require(snapshot.skills.first { $0.path == "linked" })
            for name in ["passwd", "secret.txt", "dir"] {
                let file = try #require(linked.files.first { $0.path == name })
                #expect(file.kind == .symlink)
                #expect(file.text == nil)
            }
            #expect(!linked.files.contains { $0.text?.contains("secret contents") == true || $0.text?.contains("root:") == true })
            let evil = try #require(snapshot.skills.first { $0.path == "evil" })
            #expect(!evil.parsed.loadable)
            #expect(evil.parsed.loadErrors[0].contains("symlink"))
            #expect(!evil.parsed.body.contains("secret"))
        }
    }

    @Test func largeAndBinaryFilesAreKeptAsBytesWithTheirDigestsNotAsText() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("files"), to: "files/SKILL.md", in: root)
            try write(Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]), to: "files/assets/logo.png", in: root)
            try write(String(repeating: "x", count: 5000), to: "files/references/big.md", in: root)
            try write("small text", to: "files/references/small.md", in: root)
            let skill = try #require(try discover(root) { $0.maxFileBytes = 4096 }.skills.first)
            let logo = try #require(skill.files.first { $0.path == "assets/logo.png" })
            #expect(logo.isBinary && logo.text == nil && logo.size == 6)
            #expect(logo.data == Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]))
            #expect(logo.digest == "sha256:" + SHA256.hash(data: Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01])).hex)
            let big = try #require(skill.files.first { $0.path == "references/big.md" })
            #expect(big.text == nil && big.size == 5000 && big.note?.contains("text cap") == true && !big.isBinary)
            #expect(big.data?.count == 5000 && big.digest?.hasPrefix("sha256:") == true)
            let small = try #require(skill.files.first { $0.path == "references/small.md" })
            #expect(small.text == "small text" && small.data == nil)
            #expect(small.digest == "sha256:" + SHA256.hash(data: Data("small text".utf8)).hex)
        }
    }

    @Test func aSkillOverTheSkillsExtensionsLimitsIsKeptWithAWarning() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("many"), to: "many/SKILL.md", in: root)
            for index in 0..<SkillLimits.maxFiles { try write("\(index)\n", to: "many/refs/\(index).md", in: root) }
            let skill = try #require(try discover(root).skills.first)
            #expect(skill.files.count == SkillLimits.maxFiles + 1 && skill.parsed.loadable)
            #expect(skill.parsed.warnings.contains { $0.contains("over the Skills extension's limits") && $0.contains("513 files") })
        }
    }

    @Test func textThatItsUTF8WouldNotGiveBackIsAlsoKeptAsBytes() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("bom"), to: "bom/SKILL.md", in: root)
            let withBOM = Data([0xEF, 0xBB, 0xBF]) + Data("hello\r\n".utf8)
            try write(withBOM, to: "bom/notes.txt", in: root)
            let skill = try #require(try discover(root).skills.first)
            let notes = try #require(skill.files.first { $0.path == "notes.txt" })
            #expect(!notes.isBinary && notes.digest == "sha256:" + SHA256.hash(data: withBOM).hex)
            #expect(notes.data == nil || notes.data == withBOM)
            #expect(notes.data ?? Data((notes.text ?? "").utf8) == withBOM)
        }
    }

    @Test func filesPastTheSkillsCapAreListedWithoutDigestOrBytes() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("capped"), to: "capped/SKILL.md", in: root)
            try write(Data(repeating: 0, count: 3000), to: "capped/a.bin", in: root)
            try write(Data(repeating: 0, count: 3000), to: "capped/b.bin", in: root)
            let skill = try #require(try discover(root) { $0.maxSkillBytes = 4000 }.skills.first)
            // Whichever is read first fits; the other is past the cap.
            let blobs = skill.files.filter { $0.path.hasSuffix(".bin") }
            let kept = blobs.filter { $0.data != nil }, dropped = blobs.filter { $0.data == nil }
            #expect(kept.count == 1 && kept[0].data?.count == 3000 && kept[0].digest != nil)
            #expect(dropped.count == 1 && dropped[0].digest == nil && dropped[0].note?.contains("cap") == true)
            #expect(skill.parsed.warnings.contains { $0.contains("not stored") })
        }
    }

    @Test func aSkillMarkdownOverTheCapIsNotLoadable() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("huge", body: String(repeating: "y", count: 10_000)), to: "huge/SKILL.md", in: root)
            let skill = try #require(try discover(root) { $0.maxFileBytes = 4096 }.skills.first)
            #expect(!skill.parsed.loadable)
            #expect(skill.parsed.loadErrors[0].contains("over the 4096-byte cap"))
        }
    }

    @Test func thePerSkillCapStopsStoringTextButKeepsListing() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("capped"), to: "capped/SKILL.md", in: root)
            for i in 0..<5 { try write(String(repeating: "z", count: 1000), to: "capped/ref\(i).md", in: root) }
            let skill = try #require(try discover(root) { $0.maxSkillBytes = 2500 }.skills.first)
            #expect(skill.files.count == 6)
            #expect(skill.files.filter { $0.text == nil }.count >= 3)
            #expect(skill.parsed.warnings.contains { $0.contains("exceed 2500 bytes") })
        }
    }

    @Test func theDigestChangesWithAnyFileAndOnlyThen() throws {
        try withTemporaryDirectory { root in
            try write(skillMarkdown("d"), to: "d/SKILL.md", in: root)
            try write("v1", to: "d/ref.md", in: root)
            let first = try #require(try discover(root).skills.first).digest
            #expect(try #require(try discover(root).skills.first).digest == first)
            try write("v2", to: "d/ref.md", in: root)
            #expect(try #require(try discover(root).skills.first).digest != first)
        }
    }

    @Test func aMissingSourceDirectoryIsAnErrorThatNamesIt() {
        #expect(throws: RegistryError(.io, "skill source directory /nonexistent/skills does not exist")) {
            try LocalSkillTree(root: "/nonexistent/skills")
        }
    }
}
