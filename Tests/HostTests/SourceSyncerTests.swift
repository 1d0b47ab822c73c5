import Base
import Foundation
import GitSync
import Logging
import Testing
@testable import Host
import Registry

@Suite struct SourceSyncerTests {
    func context(_ root: String, _ yaml: String) throws -> HostContext {
        try write(yaml, to: "registry.yaml", in: root)
        return try HostContext.open(configPath: root + "/registry.yaml", logger: Logger(label: "test"), environment: [:])
    }

    @Test func aLocalSourceSyncsIntoTheDatabaseTheManifestNames() throws {
        try withTemporaryDirectory { root in
            try write("---\nname: one\ndescription: First.\n---\n", to: "skills/one/SKILL.md", in: root)
            let ctx = try context(root, "version: 1\nhost:\n  database: state/r.db\nsources:\n  - name: local\n    path: ./skills\n")
            let results = try ctx.syncer.sync()
            #expect(results.map(\.outcome) == [.published])
            #expect(FileManager.default.fileExists(atPath: root + "/state/r.db"))
            #expect(try ctx.db.skill(named: "one")?.description == "First.")
        }
    }

    @Test func aSourceWhoseFolderVanishedFailsAndKeepsItsLastGoodRevision() throws {
        try withTemporaryDirectory { root in
            try write("---\nname: one\ndescription: First.\n---\n", to: "skills/one/SKILL.md", in: root)
            let ctx = try context(root, "version: 1\nsources:\n  - name: local\n    path: ./skills\n")
            let good = try #require(try ctx.syncer.sync().first)
            try FileManager.default.moveItem(atPath: root + "/skills", toPath: root + "/moved")
            let failed = try #require(try ctx.syncer.sync().first)
            #expect(failed.outcome == .failed)
            #expect(failed.message?.contains("skills does not exist") == true)
            let source = try #require(try ctx.db.source(named: "local"))
            #expect(source.status == .failed && source.revision == good.revision)
            #expect(try ctx.db.skill(named: "one") != nil)
        }
    }

    @Test func anUnknownSourceNameGetsASuggestion() throws {
        try withTemporaryDirectory { root in
            let ctx = try context(root, "version: 1\nsources:\n  - name: local\n    path: ./skills\n")
            #expect(throws: HostError.self) { try ctx.syncer.sync(source: "locl") }
            do { _ = try ctx.syncer.sync(source: "locl") } catch let error as HostError {
                #expect(error.message.hasSuffix("did you mean 'local'?"))
            }
        }
    }

    @Test func gitSourceURLsAreStoredWithoutCredentials() {
        #expect(Redaction.url("https://user:tok3n@example.com/x.git") == "https://***@example.com/x.git")
        #expect(Redaction.url("https://example.com/x.git") == "https://example.com/x.git")
    }
}
