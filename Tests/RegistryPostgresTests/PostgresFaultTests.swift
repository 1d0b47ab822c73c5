import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The database going away for a while: calls fail fast with a clear error instead of hanging, and
/// work again once it is back, without reopening anything.
@Suite(.serialized) struct PostgresFaultTests {
    static let logger = Logger(label: "test")

    @Test func whileTheServerIsDownCallsFailFastAndTheyWorkAgainOnceItIsBack() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { return }
        let registry = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { registry.close() }
        let record = MemoryRecord(type: .core, scope: .global, owner: "", text: "kept across a restart", metadata: nil, importance: 0.5,
                                  createdAt: Date().timeIntervalSince1970, agent: "ada", role: nil)
        let id = try await registry.insertMemory(record)
        let listening = ContinuousClock.now   // the change feed's connection is what notices the loss first
        while !registry.feed.listening.up, ContinuousClock.now - listening < .seconds(60) { try await Task.sleep(for: .milliseconds(20)) }

        await server.halted()
        let started = ContinuousClock.now
        let error = await #expect(throws: RegistryError.self) { try await registry.memory(id: id) }
        let took = ContinuousClock.now - started
        print("a read with the database down failed after \(took): \(error?.message ?? "")")
        #expect(took < .seconds(25), "it waited for the limit (30 s), not for the change feed to notice")
        #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(server.password) == false)
        let feedDown = ContinuousClock.now
        while registry.feed.listening.up, ContinuousClock.now - feedDown < .seconds(60) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!registry.feed.listening.up && registry.feed.listening.problem != nil)

        try await server.started()
        let back = ContinuousClock.now
        var text: String?
        while text == nil, ContinuousClock.now - back < .seconds(20) {
            text = try? await registry.memory(id: id)?.text
            if text == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(text == "kept across a restart")
        while !registry.feed.listening.up, ContinuousClock.now - back < .seconds(20) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(registry.feed.listening.up, "the change feed did not listen again")
    }
}
