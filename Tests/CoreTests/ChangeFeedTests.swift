import Core
import Foundation
import Registry
import TestSupport
import Testing

/// The registry's change feed: every write that changes a topic moves that topic's mark (and only
/// that one), as a reader in another process would see it.
@Suite struct ChangeFeedTests {
    @Test func aPublishMovesTheSkillsMarkAndNoOther() throws {
        try withTemporaryDirectory { root in
            let registry = try RegistryDatabase(path: root + "/registry.db")
            let feed = registry.changes
            try registry.declareSources([SourceDescriptor(name: "alpha", kind: .local, location: root + "/alpha", position: 0)])
            let before = ChangeTopic.allCases.map { feed.mark($0) }
            try write("---\nname: one\ndescription: One skill.\n---\nBody.\n", to: "alpha/one/SKILL.md", in: root)
            _ = try registry.publish(SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/alpha")), to: "alpha")
            let after = ChangeTopic.allCases.map { feed.mark($0) }
            #expect(zip(ChangeTopic.allCases, zip(before, after)).filter { $0.1.0 != $0.1.1 }.map(\.0) == [.skills])
        }
    }

    @Test func aKeyCreatedOrRevokedMovesTheKeysMark() throws {
        try withTemporaryDirectory { root in
            let registry = try RegistryDatabase(path: root + "/registry.db")
            let feed = registry.changes
            let start = feed.mark(.keys)
            try registry.insertAPIKey(APIKeyRecord(id: "key_1", agent: "a", label: nil, hint: "ah_x…", createdAt: Date(), expiresAt: nil), hash: Data([1, 2, 3]))
            let created = feed.mark(.keys)
            #expect(created != start)
            _ = try registry.revokeAPIKey("key_1")
            #expect(feed.mark(.keys) != created)
        }
    }

    @Test func aRevokedGrantMovesTheApprovalsMarkAndAnUnknownOneDoesNot() async throws {
        try await withTemporaryDirectory { root in
            let registry = try RegistryDatabase(path: root + "/registry.db")
            let feed = registry.changes, book = ApprovalBook(store: registry)
            let start = feed.mark(.approvals)
            await #expect(throws: CoreError.self) { try await book.revokeGrant("grt_missing", by: "test", reason: nil) }
            #expect(feed.mark(.approvals) == start)
        }
    }

    @Test func eventsHaveNoMarkAndAreReadAgainEverySecond() throws {
        try withTemporaryDirectory { root in
            let feed = try RegistryDatabase(path: root + "/registry.db").changes
            #expect(feed.mark(.events) == "")
            #expect(feed.recheck(.events) == .seconds(1))
            #expect(feed.recheck(.approvals) < feed.recheck(.events))
        }
    }
}
