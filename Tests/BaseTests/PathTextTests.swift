import Foundation
import Testing
@testable import Base

/// `PathText` replaces Foundation's NSString path functions, some of which trap on short paths.
@Suite struct PathTextTests {
    @Test func shortAndOddPathsHaveAFolderAndAName() {
        #expect(PathText.parent("a") == "" && PathText.folder(of: "a") == ".")
        #expect(PathText.lastComponent("a") == "a")
        #expect(PathText.lastComponent(".") == "." && PathText.folder(of: ".") == ".")
        #expect(PathText.lastComponent("./") == "." && PathText.folder(of: "./") == ".")
        #expect(PathText.lastComponent("~") == "~" && PathText.lastComponent("~/") == "~")
        #expect(PathText.lastComponent("") == "" && PathText.parent("") == "")
        #expect(PathText.lastComponent("/") == "/" && PathText.parent("/") == "/")
        #expect(PathText.parent("/a") == "/" && PathText.lastComponent("/a") == "a")
        #expect(PathText.parent("a/b/c") == "a/b" && PathText.lastComponent("a/b/c/") == "c")
        #expect(PathText.parent("a//b") == "a")
    }

    @Test func normalizeAppliesDotsLexicallyAndNeverClimbsAboveTheRoot() {
        #expect(PathText.normalize("") == ".")
        #expect(PathText.normalize("./a/./b/") == "a/b")
        #expect(PathText.normalize("a/../..") == "..")
        #expect(PathText.normalize("/../a/../../b") == "/b")
        #expect(PathText.normalize("//x//y") == "/x/y")
        #expect(PathText.resolve("~/k", against: "/m", home: "/home/u") == "/home/u/k")
        #expect(PathText.resolve("k", against: "/m/n/..") == "/m/k")
        #expect(PathText.resolve("/abs", against: "/m") == "/abs")
        #expect(PathText.pathExtension("a/b.tar.GZ") == "GZ" && PathText.pathExtension(".profile") == "" && PathText.pathExtension("x.") == "")
    }

    /// Random strings over the characters paths are made of: nothing traps, and the results keep
    /// the properties callers rely on.
    @Test func fuzzedPathsNeverTrapAndStayConsistent() {
        let alphabet: [Character] = ["a", "b", "/", ".", "~", " ", "\0", "é", "-", "*"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...8, using: &generator)
            let path = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let parent = PathText.parent(path)
            let last = PathText.lastComponent(path)
            let normalized = PathText.normalize(path)
            _ = PathText.pathExtension(path)
            _ = PathText.resolve(path, against: "/r", home: "/h")
            #expect(!last.contains("/") || last == "/", "lastComponent(\(path.debugDescription)) = \(last.debugDescription)")
            #expect(!normalized.isEmpty)
            #expect(normalized == "." || !normalized.split(separator: "/").contains("."), "normalize(\(path.debugDescription)) = \(normalized)")
            #expect(PathText.normalize(normalized) == normalized)
            if path.hasPrefix("/") { #expect(parent.hasPrefix("/") && !normalized.split(separator: "/").contains("..")) }
        }
    }
}
