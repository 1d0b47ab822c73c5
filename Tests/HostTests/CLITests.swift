import Foundation
import Testing

/// The `agenthub` executable, run as a user would.
@Suite struct CLITests {
    struct Verdict: Decodable {
        var path: String
        var name: String
        var loadable: Bool
        var strict: Bool
        var errors: [String]
        var warnings: [String]
    }

    @Test func skillsValidatePrintsAVerdictPerPathAsJSON() throws {
        try withTemporaryDirectory { root in
            try write("---\nname: good\ndescription: Fine.\n---\n", to: "good/SKILL.md", in: root)
            try write("---\nname: Loose\ndescription: Fine.\nversion: 1\n---\n", to: "loose/SKILL.md", in: root)
            try write("---\nname: broken\n---\n", to: "broken/SKILL.md", in: root)
            let all = try run(agenthubBinary(), ["skills", "validate", "--json", "good", "loose", "broken"], in: root)
            #expect(all.status == 1)
            let verdicts = try JSONDecoder().decode([Verdict].self, from: Data(all.stdout.utf8))
            #expect(verdicts.map(\.path) == ["good", "loose", "broken"])
            #expect(verdicts.map(\.loadable) == [true, true, false])
            #expect(verdicts.map(\.strict) == [true, false, false])
            #expect(verdicts[2].errors == ["SKILL.md frontmatter has no description"])
            #expect(verdicts[1].warnings.contains { $0.contains("Unexpected fields in frontmatter: version") })

            #expect(try run(agenthubBinary(), ["skills", "validate", "good", "loose/SKILL.md"], in: root).status == 0)
            #expect(try run(agenthubBinary(), ["skills", "validate", "--strict", "good", "loose"], in: root).status == 1)
            let missing = try run(agenthubBinary(), ["skills", "validate", "nowhere"], in: root)
            #expect(missing.status == 1 && missing.stdout.contains("does not exist"))
        }
    }

    @Test func checkExitsOneAndPrintsEveryProblemWithItsPosition() throws {
        try withTemporaryDirectory { root in
            try write("version: 1\nhots: {}\nsync:\n  interval: soon\n", to: "registry.yaml", in: root)
            let result = try run(agenthubBinary(), ["check"], in: root)
            #expect(result.status == 1)
            #expect(result.stderr.contains("registry.yaml:2:1: unknown key 'hots' in the manifest; did you mean 'host'?"))
            #expect(result.stderr.contains("registry.yaml:4:13: sync.interval:"))
        }
    }

    @Test func syncThenListSearchShowAndSourcesWorkOnTheRegistry() throws {
        try withTemporaryDirectory { root in
            try write("version: 1\nsources:\n  - name: local\n    path: ./skills\n", to: "registry.yaml", in: root)
            try write("---\nname: invoices\ndescription: Reads invoices.\n---\nSteps.\n", to: "skills/invoices/SKILL.md", in: root)
            try write("---\nname: notes\ndescription: Takes notes.\n---\nSteps.\n", to: "skills/notes/SKILL.md", in: root)
            #expect(try run(agenthubBinary(), ["check"], in: root).status == 0)
            let sync = try run(agenthubBinary(), ["sync", "--json"], in: root)
            #expect(sync.status == 0, "\(sync.stderr)")
            #expect(sync.stdout.contains("\"outcome\" : \"published\""))
            #expect(try run(agenthubBinary(), ["sync"], in: root).stdout.contains("unchanged"))
            #expect(try run(agenthubBinary(), ["skills", "list"], in: root).stdout.contains("notes"))
            let search = try run(agenthubBinary(), ["skills", "search", "invoice"], in: root)
            #expect(search.status == 0 && search.stdout.contains("invoices") && !search.stdout.contains("notes"))
            #expect(try run(agenthubBinary(), ["skills", "search", "zebra"], in: root).status == 1)
            #expect(try run(agenthubBinary(), ["skills", "show", "notes"], in: root).stdout.contains("Takes notes."))
            #expect(try run(agenthubBinary(), ["skills", "show", "nope"], in: root).status == 1)
            let sources = try run(agenthubBinary(), ["sources", "--json"], in: root)
            #expect(sources.stdout.contains("\"status\" : \"ready\""))
            #expect(try run(agenthubBinary(), ["sync", "--source", "nope"], in: root).stderr.contains("no source named 'nope'"))
        }
    }
}
