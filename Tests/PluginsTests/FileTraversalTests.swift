import Foundation
import Testing
@testable import Plugins
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// Every way out of a file root we could think of, and the proof that none of them works.
@Suite struct FileTraversalTests {
    static let secret = "TOP-SECRET-OUTSIDE-THE-ROOT"

    /// A root with an inside file, and next to it an outside folder holding the secret.
    func fixture(_ body: (String, String, FilePlugin) async throws -> Void) async throws {
        try await withTemporaryDirectory { base in
            let root = base + "/root", outside = base + "/outside"
            try write("inside\n", to: "inside.txt", in: root)
            try write("nested\n", to: "a/b/nested.txt", in: root)
            try write(Self.secret, to: "secret.txt", in: outside)
            let fm = FileManager.default
            try fm.createSymbolicLink(atPath: root + "/link_abs", withDestinationPath: outside + "/secret.txt")
            try fm.createSymbolicLink(atPath: root + "/link_rel", withDestinationPath: "../outside/secret.txt")
            try fm.createSymbolicLink(atPath: root + "/chain1", withDestinationPath: "chain2")
            try fm.createSymbolicLink(atPath: root + "/chain2", withDestinationPath: "a/../../outside/secret.txt")
            try fm.createSymbolicLink(atPath: root + "/dirlink", withDestinationPath: outside)
            try fm.createSymbolicLink(atPath: root + "/dirlink_rel", withDestinationPath: "../outside")
            try fm.createSymbolicLink(atPath: root + "/etc", withDestinationPath: "/etc")
            try fm.createSymbolicLink(atPath: root + "/a/up", withDestinationPath: "../..")
            try fm.createSymbolicLink(atPath: root + "/good_link", withDestinationPath: "inside.txt")
            #expect(mkfifo(root + "/fifo", 0o644) == 0)
            let plugin = FilePlugin(settings: .init(roots: [root]))
            try await body(root, outside, plugin)
        }
    }

    @Test func noPathEverReadsOutsideTheRoot() async throws {
        try await fixture { root, outside, plugin in
            let attempts: [String] = [
                "../outside/secret.txt", "../../etc/passwd", "/etc/passwd", outside + "/secret.txt",
                root + "/../outside/secret.txt", "a/../../outside/secret.txt", "./../outside/secret.txt",
                "a/b/../../../outside/secret.txt", "%2e%2e/outside/secret.txt", "%2e%2e%2foutside%2fsecret.txt",
                "..%2foutside%2fsecret.txt", "..\\outside\\secret.txt", "inside.txt\0../outside/secret.txt", "\0",
                "link_abs", "link_rel", "chain1", "dirlink/secret.txt", "dirlink_rel/secret.txt", "etc/passwd",
                "a/up/../outside/secret.txt", "a/up/outside/secret.txt", "fifo", "/dev/null", "/proc/self/environ",
                "//" + outside + "/secret.txt", String(repeating: "../", count: 64) + "etc/passwd", "~/.bashrc",
                "/proc/self/cwd/../outside/secret.txt", root + "/link_abs", root + "/dirlink/secret.txt",
            ]
            #expect(attempts.count >= 25)
            for path in attempts {
                do {
                    let result = try await plugin.call("read_file", ["path": .string(path)])
                    Issue.record("read_file '\(path)' returned: \(result.text.prefix(80))")
                } catch let error as ToolError {
                    #expect(!error.message.contains(Self.secret))
                    #expect([.forbidden, .notFound, .invalidArguments].contains(error.code), "\(path): \(error)")
                }
            }
        }
    }

    @Test func eachRefusalSaysWhy() async throws {
        try await fixture { root, outside, plugin in
            func message(_ path: String) async -> String {
                do { _ = try await plugin.call("read_file", ["path": .string(path)]); return "read" } catch { return "\(error)" }
            }
            #expect(await message("../outside/secret.txt").contains("leaves the file roots"))
            #expect(await message("link_abs").contains("leaves the file roots"))
            #expect(await message(outside + "/secret.txt").contains("outside the file roots"))
            #expect(await message("a\0b").contains("NUL"))
            #expect(await message("fifo").contains("is a fifo, not a regular file"))
            #expect(await message("a").contains("is a folder"))
            #expect(await message("missing.txt").contains("does not exist"))
        }
    }

    @Test func symlinksThatStayInsideTheRootStillWork() async throws {
        try await fixture { root, _, plugin in
            let viaLink = try await plugin.call("read_file", ["path": "good_link"])
            let absolute = try await plugin.call("read_file", ["path": .string(root + "/a/b/nested.txt")])
            let dotted = try await plugin.call("read_file", ["path": "a/b/../../inside.txt"])
            #expect(viaLink.text == "inside\n")
            #expect(absolute.text == "nested\n")
            #expect(dotted.text == "inside\n")
        }
    }

    @Test func listingNeverLeavesTheRootNorFollowsSymlinks() async throws {
        try await fixture { root, _, plugin in
            for path in ["..", "../outside", "dirlink", "dirlink_rel", "etc", "/", "a/up"] {
                await #expect(throws: ToolError.self, "list_files \(path)") { try await plugin.call("list_files", ["path": .string(path)]) }
            }
            let listing = try await plugin.call("list_files", ["depth": 5])
            let entries = listing.structuredContent?["entries"]?.arrayValue ?? []
            let paths = entries.compactMap { $0["path"]?.stringValue }
            #expect(!paths.contains { $0.hasPrefix("dirlink/") || $0.hasPrefix("etc/") || $0.hasPrefix("a/up/") })
            #expect(entries.first { $0["path"] == "dirlink" }?["type"] == "symlink")
            #expect(entries.first { $0["path"] == "fifo" }?["type"] == "fifo")
        }
    }

    @Test func writesNeverLeaveTheRootNorFollowSymlinks() async throws {
        try await fixture { root, outside, plugin in
            for path in ["../outside/new.txt", outside + "/new.txt", "dirlink/new.txt", "link_abs", "link_rel", "a/up/outside/new.txt", "fifo"] {
                await #expect(throws: ToolError.self, "write_file \(path)") {
                    try await plugin.call("write_file", ["path": .string(path), "content": "pwned"])
                }
            }
            #expect(try String(contentsOfFile: outside + "/secret.txt", encoding: .utf8) == Self.secret)
            #expect(!FileManager.default.fileExists(atPath: outside + "/new.txt"))
            _ = try await plugin.call("write_file", ["path": "a/new.txt", "content": "fine"])
            #expect(try String(contentsOfFile: root + "/a/new.txt", encoding: .utf8) == "fine")
        }
    }

    /// A symlink swapped between an inside file and the outside secret while reads run: the kernel
    /// resolves each open beneath the root, so no interleaving reads the secret.
    @Test func aSymlinkSwappedDuringReadsNeverEscapes() async throws {
        try await fixture { root, outside, plugin in
            let stop = ManagedAtomicFlag()
            let swapper = Thread {
                var flip = false
                while !stop.isSet {
                    let target = flip ? "../outside/secret.txt" : "inside.txt"
                    let folder = flip ? outside : root + "/a"
                    unlink(root + "/swap.tmp")
                    symlink(target, root + "/swap.tmp")
                    rename(root + "/swap.tmp", root + "/swap")
                    // Also swap a folder for a symlink to the outside folder.
                    unlink(root + "/dswap.tmp")
                    symlink(folder, root + "/dswap.tmp")
                    rename(root + "/dswap.tmp", root + "/dswap")
                    flip.toggle()
                }
            }
            swapper.start()
            var inside = 0
            for _ in 0..<1500 {
                for path in ["swap", "dswap/secret.txt"] {
                    if let text = try? await plugin.call("read_file", ["path": .string(path)]).text {
                        #expect(!text.contains(Self.secret))
                        inside += 1
                    }
                }
            }
            stop.set()
            while swapper.isExecuting { usleep(1000) }
            #expect(inside > 0, "the inside target should be read at least sometimes")
        }
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
