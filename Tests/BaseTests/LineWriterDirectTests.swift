import Foundation
import Testing
@testable import Base
#if canImport(Glibc)
import Glibc
#endif

/// Direct writes (from the sender's thread) never interleave lines or reorder one sender's lines,
/// whether they fit the pipe or spill over to the writer thread.
@Suite struct LineWriterDirectTests {
    @Test(arguments: [LineWriter.DirectWrites.nonBlocking, .smallWhenWritable])
    func linesFromManySendersArriveWholeAndInEachSendersOrder(mode: LineWriter.DirectWrites) async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writer = LineWriter(fd: fds[1], closesDescriptor: true, directWrites: mode)
        let senders = 4, perSender = 300
        // Read everything on a thread of its own (not the cooperative pool, which the senders need).
        let collected = OneShot<[UInt8]>()
        let readFD = fds[0]
        Thread.detachNewThread {
            var all: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(readFD, &buffer, buffer.count)
                if n <= 0 { break }
                all += buffer[0..<n]
            }
            close(readFD)
            collected.set(all)
        }
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    for i in 0..<perSender {
                        // Some lines are larger than a pipe holds, so some spill to the writer thread.
                        let size = i % 50 == 0 ? 100_000 : 20 + i % 300
                        let body = "\(sender):\(i):" + String(repeating: "x", count: size)
                        writer.send(Array(body.utf8) + [0x0A])
                    }
                }
            }
        }
        writer.close()
        let text = String(decoding: await collected.wait(timeout: .seconds(120)) ?? [], as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == senders * perSender)
        var next = [Int](repeating: 0, count: senders)
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 2)
            guard parts.count == 3, let sender = Int(parts[0]), let i = Int(parts[1]) else { Issue.record("mangled line"); return }
            #expect(i == next[sender], "sender \(sender) out of order")
            next[sender] = i + 1
            #expect(parts[2].allSatisfy { $0 == "x" })
        }
    }

    @Test func aLineUpToThePipesSizeGoesStraightIntoAnEmptyPipeAndNeverBlocksAFullOne() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let writer = LineWriter(fd: fds[1], closesDescriptor: true, directWrites: .smallWhenWritable)
        func unread() -> Int32 { var n: Int32 = 0; _ = ioctl(fds[0], UInt(FIONREAD), &n); return n }
        // Empty: a 16 KiB answer is in the pipe when `send` returns (no writer thread involved).
        writer.send([UInt8](repeating: 0x61, count: 16 * 1024 - 1) + [0x0A])
        #expect(unread() == 16 * 1024)
        // Not empty: the next line (which might not fit) is queued for the writer thread, and `send` returns.
        let finished = await finishes(within: .seconds(20)) { writer.send([UInt8](repeating: 0x62, count: 60 * 1024 - 1) + [0x0A]) }
        #expect(finished)
        writer.close()
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            all += buffer[0..<n]
        }
        #expect(all.count == 76 * 1024 && all.prefix(16 * 1024 - 1).allSatisfy { $0 == 0x61 } && all.suffix(60 * 1024).dropLast().allSatisfy { $0 == 0x62 })
    }
}
