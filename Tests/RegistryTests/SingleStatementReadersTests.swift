import Foundation
import TestSupport
import Testing
@testable import Registry

/// A memory read by its id (outside GRDB's pool and any transaction) sees every write committed
/// before it, on any of the connections kept, from many threads at once.
@Suite struct SingleStatementReadersTests {
    static func record(_ text: String) -> MemoryRecord {
        MemoryRecord(type: .core, scope: .agent, owner: "me", text: text, metadata: nil, importance: 0.5,
                     createdAt: Date().timeIntervalSince1970, agent: "me", role: nil)
    }

    @Test func aReadSeesTheWriteBeforeItAndNotARowDeletedSince() throws {
        try withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            let id = try registry.insertMemory(Self.record("first words"))
            #expect(try registry.memory(id: id)?.text == "first words")
            #expect(try registry.deleteMemory(id: id))
            #expect(try registry.memory(id: id) == nil)
            let next = try registry.insertMemory(Self.record("second words"))
            #expect(try registry.memory(id: next)?.text == "second words")
            #expect(try registry.memory(id: 987_654) == nil)
        }
    }

    @Test func manyThreadsReadAtOnceAndTheKeptConnectionsStayBounded() async throws {
        try await withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            let ids = try (0..<20).map { try registry.insertMemory(Self.record("memory \($0)")) }
            let wrong = await withTaskGroup(of: Int.self) { group in
                for t in 0..<16 {
                    group.addTask {
                        // Off the cooperative pool, as the plugin threads read.
                        await withCheckedContinuation { continuation in
                            Thread {
                                var wrong = 0
                                for n in 0..<200 {
                                    let index = (t + n) % ids.count
                                    if (try? registry.memory(id: ids[index]))??.text != "memory \(index)" { wrong += 1 }
                                }
                                continuation.resume(returning: wrong)
                            }.start()
                        }
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(wrong == 0)
            #expect(registry.singleStatementReaders.keptCount <= registry.singleStatementReaders.keep)
        }
    }
}
