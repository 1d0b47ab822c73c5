import Foundation
import Testing
import TestSupport
@testable import GitSync

@Suite struct GitRepositoryTests {
    func git(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theLinkedLibgit2IsTheSystemOne() {
        #expect(LibGit2.version.hasPrefix("1."))
    }

    @Test func aBareRepositoryPushedByGitResolvesToTheSameCommit() throws {
        try withTemporaryDirectory { root in
            _ = try git(["init", "--bare", "-q", "remote.git"], in: root)
            _ = try git(["init", "-q", "work"], in: root)
            try Data("---\nname: a\ndescription: b\n---\n".utf8).write(to: URL(fileURLWithPath: root + "/work/SKILL.md"))
            _ = try git(["add", "."], in: root + "/work")
            _ = try git(["commit", "-q", "-m", "first"], in: root + "/work")
            _ = try git(["push", "-q", root + "/remote.git", "HEAD:refs/heads/main"], in: root + "/work")
            let expected = try git(["rev-parse", "HEAD"], in: root + "/work")

            let repository = try GitRepository.open(root + "/remote.git")
            #expect(repository.isBare)
            #expect(try repository.resolve("refs/heads/main") == expected)
            #expect(try repository.resolve("HEAD") == expected)
        }
    }

    @Test func aNewBareCacheRepositoryCanBeCreated() throws {
        try withTemporaryDirectory { root in
            let repository = try GitRepository.initBare(root + "/cache/source.git")
            #expect(repository.isBare)
            #expect(throws: GitError.self) { try repository.resolve("refs/heads/main") }
        }
    }

    @Test func openingAMissingRepositoryNamesItAndCarriesLibgit2sMessage() throws {
        do {
            _ = try GitRepository.open("/nonexistent/repo.git")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("git open failed for /nonexistent/repo.git"))
            #expect(error.message.contains("No such file or directory"))
            #expect(error.kind == .notFound)
        }
    }
}
