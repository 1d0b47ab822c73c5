import Foundation
import Testing
@testable import Plugins
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// Inputs that crashed the process or reached past a root: short paths, NUL bytes, hard links,
/// and listings that read a whole tree.
@Suite struct FileHardeningTests {
    @Test func writeFileTakesAnyShortPathWithoutCrashing() async throws {
        try await withTemporaryDirectory { root in
            let plugin = FilePlugin(settings: .init(roots: [root]))
            for path in ["a", "~", "b."] {
                let result = try await plugin.call("write_file", ["path": .string(path), "content": "x"])
                #expect(!result.isError)
                #expect(FileManager.default.fileExists(atPath: root + "/" + path))
            }
            for path in [".", "./", "..", "/", "", "a/", "~/"] {
                await #expect(throws: ToolError.self, "\(path)") { try await plugin.call("write_file", ["path": .string(path), "content": "x"]) }
            }
        }
    }

    @Test func aPathWithANulByteIsRefusedNotCut() async throws {
        try await withTemporaryDirectory { root in
            let plugin = FilePlugin(settings: .init(roots: [root]))
            for tool in ["write_file", "read_file", "list_files"] {
                let error = await #expect(throws: ToolError.self) {
                    try await plugin.call(tool, ["path": "a\u{0}b", "content": "x"])
                }
                #expect(error?.code == .forbidden)
            }
            #expect(!FileManager.default.fileExists(atPath: root + "/a"))
        }
    }

    @Test func aHardLinkToAFileOutsideTheRootIsNotReadUnlessAllowed() async throws {
        try await withTemporaryDirectory { base in
            let root = base + "/root"
            try write("TOP SECRET", to: "secret.txt", in: base + "/outside")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            #expect(link(base + "/outside/secret.txt", root + "/innocent.txt") == 0)
            let strict = FilePlugin(settings: .init(roots: [root]))
            let error = await #expect(throws: ToolError.self) { try await strict.call("read_file", ["path": "innocent.txt"]) }
            #expect(error?.code == .forbidden && error?.message.contains("hard link") == true)
            var settings = FilePlugin.Settings(roots: [root])
            settings.allowHardLinks = true
            let allowed = try await FilePlugin(settings: settings).call("read_file", ["path": "innocent.txt"])
            #expect(allowed.text == "TOP SECRET")
            var perRoot = FilePlugin.Settings(roots: [root])
            perRoot.hardLinkRoots = [root]
            #expect(try await FilePlugin(settings: perRoot).call("read_file", ["path": "innocent.txt"]).text == "TOP SECRET")
        }
    }

    @Test func listFilesStopsAfterReadingItsCapOfEntriesEvenWhenNothingMatches() async throws {
        try await withTemporaryDirectory { root in
            for d in 0..<10 {
                for f in 0..<40 { try write("", to: "d\(d)/f\(f).txt", in: root) }
            }
            var settings = FilePlugin.Settings(roots: [root])
            settings.maxVisited = 100
            let result = try await FilePlugin(settings: settings).call("list_files", ["path": ".", "depth": 3, "pattern": "*.nothing"])
            let value = try #require(result.structuredContent)
            #expect(value["truncated"]?.boolValue == true)
            #expect(value["visited"]?.intValue ?? 0 <= 101)
            #expect(value["truncated_reason"]?.stringValue?.contains("100 entries") == true)
            #expect(result.text.contains("truncated"))
        }
    }
}
