/// Splits a memory's text into overlapping chunks so a match deep inside a long text is found and
/// ranked on the chunk it sits in (bm25 penalises long documents). Chunks break at whitespace; the
/// overlap keeps a phrase that straddles a boundary whole in one of them.
public struct MemoryChunker: Sendable {
    public var size: Int
    public var overlap: Int

    public init(size: Int = 1000, overlap: Int = 200) {
        precondition(size > 0 && overlap >= 0 && overlap < size)
        self.size = size
        self.overlap = overlap
    }

    public func chunks(of text: String) -> [String] {
        let chars = Array(text)
        guard chars.count > size else { return [text] }
        var result: [String] = []
        var start = 0
        while start < chars.count {
            var end = min(start + size, chars.count)
            if end < chars.count {
                // Prefer to break at the last whitespace in the back quarter of the chunk.
                let floor = start + size * 3 / 4
                if let space = (floor..<end).last(where: { chars[$0].isWhitespace }) { end = space }
            }
            result.append(String(chars[start..<end]))
            if end >= chars.count { break }
            var next = max(end - overlap, start + 1)
            // Start the next chunk at a word boundary.
            while next < end, !chars[next - 1].isWhitespace { next += 1 }
            start = next
        }
        return result
    }
}
