import Foundation
import Testing
@testable import Registry

/// The strict verdict must say exactly what the reference validator (`skills-ref`, CLI
/// `agentskills validate`) says. The reference runs from the test virtualenv that `make test` builds.
@Suite struct StrictVerdictParityTests {
    /// Runs skills-ref's `validate()` on every directory in one interpreter; returns messages by directory.
    func referenceVerdicts(_ root: String, _ directories: [String], python: String) throws -> [String: [String]] {
        let script = """
            import json, sys
            from pathlib import Path
            from skills_ref.validator import validate
            out = {}
            for d in json.loads(sys.stdin.read()):
                try:
                    out[d] = validate(Path(sys.argv[1]) / d)
                except Exception as e:
                    out[d] = ["EXCEPTION " + type(e).__name__]
            print(json.dumps(out))
            """
        let input = String(decoding: try JSONEncoder().encode(directories), as: UTF8.self)
        let result = try run(python, ["-c", script, root], stdin: input)
        try #require(result.status == 0, "skills-ref failed: \(result.stderr)")
        return try JSONDecoder().decode([String: [String]].self, from: Data(result.stdout.utf8))
    }

    @Test func strictMessagesMatchTheReferenceValidatorOneByOne() throws {
        let python = try #require(testPython(), "no test virtualenv with skills-ref: run `make test` (it creates .venv)")
        let fixtures = StrictParityFixtures.all
        #expect(fixtures.count >= 40)
        try withTemporaryDirectory { root in
            for fixture in fixtures { try write(fixture.content, to: "\(fixture.directory)/SKILL.md", in: root) }
            let reference = try referenceVerdicts(root, fixtures.map(\.directory), python: python)
            var compared = 0
            for fixture in fixtures {
                let ours = ParsedSkill.parse(fixture.content, directoryName: fixture.directory).strictErrors
                let theirs = try #require(reference[fixture.directory])
                #expect(ours.count == theirs.count, "\(fixture.directory): ours \(ours) vs skills-ref \(theirs)")
                for (mine, reference) in zip(ours, theirs) {
                    if reference.hasPrefix("Invalid YAML in frontmatter:") {
                        // strictyaml's multi-line parser text is not reproduced; the verdict and the message kind are.
                        #expect(mine.hasPrefix("Invalid YAML in frontmatter:"), "\(fixture.directory): \(mine) vs \(reference)")
                    } else {
                        #expect(mine == reference, "\(fixture.directory)")
                    }
                    compared += 1
                }
            }
            #expect(compared >= 40)
        }
    }

    @Test func valuesContainingThreeDashesAreNotTruncatedAsTheReferenceDoes() throws {
        // skills-ref splits on every "---", so this name is read as "dashes-a" there; we read it whole.
        let skill = parse("---\nname: dashes-a---b\ndescription: x\n---\n", in: "dashes-a---b")
        #expect(skill.strictErrors == ["Skill name cannot contain consecutive hyphens"])
        let description = parse("---\nname: demo\ndescription: before --- after\n---\n")
        #expect(description.description == "before --- after")
        #expect(description.strict)
    }
}
