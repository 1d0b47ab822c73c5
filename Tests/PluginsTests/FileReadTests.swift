import Foundation
import Testing
@testable import Plugins
import Registry

/// read_file and list_files on ordinary files: head, tail, caps, binary files, patterns.
@Suite struct FileReadTests {
    func plugin(_ root: String, maxBytes: Int = 1 << 20) -> FilePlugin {
        var settings = FilePlugin.Settings(roots: [root])
        settings.maxBytes = maxBytes
        return FilePlugin(settings: settings)
    }

    @Test func aReadReturnsTextAndStructuredContent() async throws {
        try await withTemporaryDirectory { root in
            try write("one\ntwo\n", to: "notes.txt", in: root)
            let result = try await plugin(root).call("read_file", ["path": "notes.txt"])
            #expect(result.text == "one\ntwo\n")
            #expect(result.structuredContent == ["path": "notes.txt", "content": "one\ntwo\n", "truncated": false, "size": 8, "encoding": "text"])
        }
    }

    @Test func headAndTailReturnTheFirstAndLastLines() async throws {
        try await withTemporaryDirectory { root in
            let lines = (1...200_000).map { "line \($0)" }.joined(separator: "\n") + "\n"
            try write(lines, to: "big.log", in: root)
            let p = plugin(root, maxBytes: 8 << 20)
            #expect(try await p.call("read_file", ["path": "big.log", "head": 2]).text == "line 1\nline 2\n")
            #expect(try await p.call("read_file", ["path": "big.log", "tail": 2]).text == "line 199999\nline 200000\n")
            let tail = try await p.call("read_file", ["path": "big.log", "tail": 150_000]).text
            #expect(tail.hasPrefix("line 50001\n") && tail.hasSuffix("line 200000\n"))
            try write("no final newline\nlast", to: "short.txt", in: root)
            #expect(try await p.call("read_file", ["path": "short.txt", "tail": 1]).text == "last")
        }
    }

    @Test func headCountsLinesAcrossReadChunksAndStopsAtTheCap() async throws {
        try await withTemporaryDirectory { root in
            // 100,000 lines of 9 bytes: reads come in 64 KiB chunks, so the lines asked for end in a later chunk.
            let lines = (0..<100_000).map { String(format: "l%07d", $0) }.joined(separator: "\n") + "\n"
            try write(lines, to: "wide.log", in: root)
            let p = plugin(root, maxBytes: 8 << 20)
            let head = try await p.call("read_file", ["path": "wide.log", "head": 20_000])
            #expect(head.text == lines.split(separator: "\n").prefix(20_000).map { $0 + "\n" }.joined())
            #expect(head.structuredContent?["truncated"] == false)
            // A cap that ends exactly on the last line asked for is not a cut; one byte short is.
            let exact = try await p.call("read_file", ["path": "wide.log", "head": 3, "max_bytes": 27])
            #expect(exact.text == "l0000000\nl0000001\nl0000002\n" && exact.structuredContent?["truncated"] == false)
            let short = try await p.call("read_file", ["path": "wide.log", "head": 3, "max_bytes": 26])
            #expect(short.text == "l0000000\nl0000001\nl0000002" && short.structuredContent?["truncated"] == true)
            // More lines than the file has: all of it, not a cut.
            try write("a\nb", to: "two.txt", in: root)
            let all = try await p.call("read_file", ["path": "two.txt", "head": 5])
            #expect(all.text == "a\nb" && all.structuredContent?["truncated"] == false)
        }
    }

    @Test func largeFilesAreCutAtTheCapAndSaySo() async throws {
        try await withTemporaryDirectory { root in
            try write(String(repeating: "é", count: 1000), to: "wide.txt", in: root)
            let result = try await plugin(root, maxBytes: 101).call("read_file", ["path": "wide.txt"])
            #expect(result.structuredContent?["truncated"] == true)
            #expect(result.structuredContent?["size"] == 2000)
            #expect(result.text == String(repeating: "é", count: 50))
            let small = try await plugin(root).call("read_file", ["path": "wide.txt", "max_bytes": 10])
            #expect(small.text.count == 5)
        }
    }

    @Test func binaryFilesAreRefusedUnlessAskedForAsBase64() async throws {
        try await withTemporaryDirectory { root in
            try write(Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2, 0xFF]), to: "image.png", in: root)
            let p = plugin(root)
            await #expect { try await p.call("read_file", ["path": "image.png"]) } throws: { error in
                (error as? ToolError)?.message.contains("looks binary") == true
            }
            let encoded = try await p.call("read_file", ["path": "image.png", "encoding": "base64"])
            #expect(encoded.text == Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2, 0xFF]).base64EncodedString())
        }
    }

    @Test func listingFiltersByPatternAndDescendsToTheDepthAsked() async throws {
        try await withTemporaryDirectory { root in
            try write("a", to: "docs/a.md", in: root)
            try write("b", to: "docs/deep/b.md", in: root)
            try write("c", to: "docs/c.txt", in: root)
            let p = plugin(root)
            let one = try await p.call("list_files", ["path": "docs"])
            #expect(one.text == "docs/a.md\ndocs/c.txt\ndocs/deep/")
            let md = try await p.call("list_files", ["path": "docs", "depth": 3, "pattern": "*.md"])
            #expect(md.text == "docs/a.md\ndocs/deep/b.md")
            await #expect(throws: ToolError.self) { try await p.call("list_files", ["path": "docs/a.md"]) }
        }
    }

    @Test func aMissingRootIsReportedNotFatal() async throws {
        let p = FilePlugin(settings: .init(roots: ["/nonexistent/agenthub-root"]))
        #expect(p.rootProblems.count == 1)
        await #expect { try await p.call("read_file", ["path": "x"]) } throws: { error in
            (error as? ToolError)?.message.contains("/nonexistent/agenthub-root") == true
        }
    }
}
