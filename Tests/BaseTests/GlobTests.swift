import Testing
@testable import Base

@Suite struct GlobTests {
    @Test func nameGlobsMatchWholeNames() throws {
        let glob = try Glob("git__*")
        #expect(glob.matches("git__git_reset"))
        #expect(!glob.matches("github"))
        #expect(try Glob("memory_?et").matches("memory_get"))
        #expect(try Glob("read_file").isLiteral)
    }

    @Test func pathGlobsSpanDirectoriesOnlyWithTwoStars() throws {
        #expect(try Glob("skills/**", mode: .path).matches("skills/a/b"))
        #expect(try Glob("skills/**", mode: .path).matches("skills/a"))
        #expect(!(try Glob("skills/*", mode: .path).matches("skills/a/b")))
        #expect(try Glob("**/pdf", mode: .path).matches("x/y/pdf"))
        #expect(try Glob("skills/[a-c]*", mode: .path).matches("skills/brief"))
    }

    @Test func badPatternsAreRejectedWithAReason() {
        #expect(throws: GlobError.self) { try Glob("") }
        #expect(throws: GlobError.self) { try Glob("skills/[ab") }
        #expect(throws: GlobError.self) { try Glob("../x", mode: .path) }
        #expect(throws: GlobError.self) { try Glob("/abs", mode: .path) }
        #expect(throws: GlobError.self) { try Glob("a**b", mode: .path) }
        #expect(throws: GlobError.self) { try Glob("tool**") }
    }
}
