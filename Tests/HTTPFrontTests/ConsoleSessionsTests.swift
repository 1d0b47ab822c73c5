import Core
import Foundation
import Registry
import Testing
import TestSupport
@testable import HTTPFront

/// Console sign-ins live in the registry: a browser signed in on one host is known on another
/// (as behind a load balancer), a sign-out or a refused key on either ends it on both, and memory
/// holds at most `capacity` of them without signing anyone out.
@Suite struct ConsoleSessionsTests {
    @Test func aSignInOnOneHostIsKnownOnAnotherAndEndsEverywhere() async throws {
        try await withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            let first = ConsoleSessions(store: registry, changes: registry.changes, idle: 60, lifetime: 3600, capacity: 2)
            let second = ConsoleSessions(store: registry, changes: registry.changes, idle: 60, lifetime: 3600, capacity: 2)
            let start = Date()
            let a = try await first.open(keyHash: Data([1]), agent: "ada", now: start)
            let b = try await first.open(keyHash: Data([2]), agent: "bob", now: start.addingTimeInterval(1))

            // The other host knows both, with the same CSRF token; only hashes were stored.
            let seen = try #require(await second.session(a.token, now: start.addingTimeInterval(2)))
            #expect(seen.agent == "ada" && seen.csrf == a.csrf && seen.keyHash == Data([1]))
            #expect(try await registry.consoleSession(tokenHash: ConsoleSessions.hash(a.token))?.keyHash == Data([1]))
            #expect(await second.session("not-a-token", now: start) == nil)

            // Memory holds two; the third pushes the least recently used out of memory, not out of the registry.
            _ = try await first.open(keyHash: Data([3]), agent: "cy", now: start.addingTimeInterval(3))
            #expect(first.count == 2)
            #expect(await first.session(b.token, now: start.addingTimeInterval(4))?.agent == "bob")

            // Signed out on the first host: refused on the second, which had it in memory.
            await first.close(a.token)
            #expect(await second.session(a.token, now: start.addingTimeInterval(5)) == nil)
            // A refused key ends its sessions on every host.
            #expect(await second.session(b.token, now: start.addingTimeInterval(5)) != nil)
            await second.close(keyHash: Data([2]))
            #expect(await first.session(b.token, now: start.addingTimeInterval(6)) == nil)
            // Idle past a minute: ended.
            let c = try await first.open(keyHash: Data([4]), agent: "dee", now: start.addingTimeInterval(7))
            #expect(await second.session(c.token, now: start.addingTimeInterval(200)) == nil, "idle for over a minute")
        }
    }
}
