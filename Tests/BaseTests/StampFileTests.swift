import Base
import Foundation
import Testing

@Suite struct StampFileTests {
    @Test func aStampStaysTheSameUntilTouchedAndMovesWithEveryTouch() throws {
        let dir = NSTemporaryDirectory() + "stamp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stamp = StampFile(path: dir + "/keys-changed")
        #expect(stamp.current == "")
        stamp.touch()
        let first = stamp.current
        #expect(!first.isEmpty)
        #expect(stamp.current == first)
        var seen: Set<String> = [first]
        for _ in 0..<20 {
            stamp.touch()
            #expect(seen.insert(stamp.current).inserted)
        }
        // Another reader of the same file (another process's view) agrees on the text.
        #expect(StampFile(path: dir + "/keys-changed").current == stamp.current)
        try FileManager.default.removeItem(atPath: dir + "/keys-changed")
        #expect(stamp.current == "")
    }

    @Test func aFileWrittenInPlaceMovesTheStampToo() throws {
        let dir = NSTemporaryDirectory() + "stamp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/approvals-changed"
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: path))
        let stamp = StampFile(path: path)
        let before = stamp.current
        try Data("ab\n".utf8).write(to: URL(fileURLWithPath: path))   // another size, whatever the clock's resolution
        #expect(stamp.current != before)
    }
}
