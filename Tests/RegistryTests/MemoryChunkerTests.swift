import Testing
@testable import Registry

@Suite struct MemoryChunkerTests {
    @Test func shortTextsAreOneChunk() {
        #expect(MemoryChunker().chunks(of: "hello world") == ["hello world"])
    }

    @Test func longTextsOverlapAndBreakAtWords() {
        let words = (0..<2000).map { "w\($0)" }
        let chunks = MemoryChunker(size: 200, overlap: 50).chunks(of: words.joined(separator: " "))
        #expect(chunks.count > 40)
        #expect(chunks.allSatisfy { $0.count <= 200 })
        // Every word survives whole in some chunk, and chunks start at a word.
        let seen = Set(chunks.flatMap { $0.split(separator: " ").map(String.init) })
        #expect(seen.isSuperset(of: words))
        #expect(chunks.allSatisfy { $0.first == "w" })
        // Neighbours overlap.
        for (a, b) in zip(chunks, chunks.dropFirst()) { #expect(a.hasSuffix(String(b.split(separator: " ")[0])) || a.contains(String(b.split(separator: " ")[0]))) }
    }
}
