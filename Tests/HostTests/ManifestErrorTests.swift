import Testing
@testable import Host

@Suite struct ManifestErrorTests {
    @Test func aYAMLSyntaxErrorNamesItsLineAndColumn() {
        let found = problems("version: 1\nsources:\n  - name: \"open\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("4:1: YAML syntax error: while scanning a quoted scalar"), "\(found)")
        #expect(found[0].contains("starts at line 3, column 11"))
    }

    @Test func aDuplicateKeyIsASyntaxErrorWithAPlace() {
        let found = problems("version: 1\nhost:\n  http: 127.0.0.1:1\n  http: 127.0.0.1:2\n")
        #expect(found.count == 1)
        #expect(found[0].contains("duplicate key 'http'"), "\(found)")
    }

    @Test func aWrongTypeNamesTheKeyAndWhatWasFound() {
        #expect(problems("version: 1\nsync:\n  max_concurrent: four\n") == ["3:19: sync.max_concurrent must be an integer, found a string ('four')"])
        #expect(problems("version: 1\nsources: local\n") == ["2:10: sources must be a list, found a string ('local')"])
        #expect(problems("version: 1\nsources:\n  - name: a\n    path: ./a\n    include_hidden: maybe\n")
            == ["5:21: sources.a.include_hidden must be true or false, found a string ('maybe')"])
    }

    @Test func aBadTaskToolsEntryNamesItsPlaceAndTheRestAreKept() {
        #expect(problems("version: 1\nrouter:\n  task_tools: { \"a[\": always, b: sometimes, c: never }\n")
            == ["3:17: router.task_tools has a bad pattern: pattern 'a[' has an unclosed '['",
                "3:34: router.task_tools.b must be one of always, auto, never, found 'sometimes'"])
    }

    @Test func anUnknownKeySuggestsTheClosestKnownOne() {
        #expect(problems("version: 1\nhots:\n  http: 127.0.0.1:1\n") == ["2:1: unknown key 'hots' in the manifest; did you mean 'host'?"])
        #expect(problems("version: 1\nroles:\n  r:\n    alow: [x]\n") == ["4:5: unknown key 'alow' in roles.r; did you mean 'allow'?"])
        #expect(problems("version: 1\nfrobnicate: 1\n") == ["2:1: unknown key 'frobnicate' in the manifest"])
    }

    @Test func aMissingRequiredKeyIsReportedAtItsMapping() {
        #expect(problems("host: {}\n") == ["1:1: the manifest is missing required key 'version'"])
        #expect(problems("version: 1\nsources:\n  - path: ./x\n") == ["3:5: sources[0] is missing required key 'name'"])
        #expect(problems("version: 1\nagents:\n  bot: { key_env: K }\n") == ["3:8: agents.bot is missing required key 'role'"])
    }

    @Test func unknownReferencesNameTheReferenceAndItsPlace() {
        let yaml = """
            version: 1
            sources:
              - name: local
                path: ./skills
            roles:
              researcher:
                skills: ["locl/*"]
            groups:
              writers:
                members: [researcher, editr]
                lead: boss
            agents:
              bot: { role: reseacher, group: writer }
            """
        #expect(problems(yaml) == [
            "7:14: roles.researcher.skills: 'locl/*' names unknown source 'locl'; did you mean 'local'?",
            "10:27: groups.writers.members: unknown role 'editr'",
            "11:11: groups.writers.lead 'boss' is not one of its members (researcher, editr)",
            "13:16: agents.bot.role: unknown role 'reseacher'; did you mean 'researcher'?",
            "13:34: agents.bot.group: unknown group 'writer'; did you mean 'writers'?",
        ])
    }

    @Test func anAgentWhoseRoleIsNotInItsGroupIsRejected() {
        let yaml = "version: 1\nroles:\n  a: {}\n  b: {}\ngroups:\n  g: { members: [a] }\nagents:\n  bot: { role: b, group: g }\n"
        #expect(problems(yaml) == ["8:26: agents.bot: role 'b' is not a member of group 'g'"])
    }

    @Test func duplicateSourceNamesAreRejected() {
        let yaml = "version: 1\nsources:\n  - name: s\n    path: ./a\n  - name: s\n    path: ./b\n"
        #expect(problems(yaml) == ["5:5: duplicate source name 's' (first defined at line 3)"])
    }

    @Test func badGlobsAndBadToolPatternsAreRejected() {
        let yaml = "version: 1\nsources:\n  - name: s\n    path: ./a\n    paths: [\"skills/[ab\", \"../up\"]\npolicy:\n  rules:\n    - allow: [\"read file\"]\n"
        #expect(problems(yaml) == [
            "5:13: sources.s.paths: pattern 'skills/[ab' has an unclosed '['",
            "5:27: sources.s.paths: path pattern '../up' must not contain '..'",
            "8:15: policy.rules[0].allow: 'read file' is not a tool pattern (letters, digits, '_', '-' and the wildcards * ? [...])",
        ])
    }

    @Test func badDurationsSayHowToWriteOne() {
        #expect(problems("version: 1\nsync:\n  interval: 15 minutes\n  timeout: 0s\n") == [
            "3:13: sync.interval: '15 minutes' is not a duration: a number needs a unit (ms, s, m, h, d), as in 30s, 15m, 1h or 1d",
            "4:12: sync.timeout: duration '0s' must be longer than zero",
        ])
        #expect(problems("version: 1\nsync:\n  interval: 1h30m\n").isEmpty)
    }

    @Test func bridgedToolNamesOver64CharactersAreRejected() {
        let long = String(repeating: "t", count: 60)
        let yaml = "version: 1\nplugins:\n  mcp:\n    servers:\n      time:\n        command: x\n        tools: [ok, \(long)]\n"
        #expect(problems(yaml) == ["7:21: bridged tool name 'time__\(long)' is 66 characters, over the 64 clients accept"])
        let server = String(repeating: "s", count: 62)
        #expect(problems("version: 1\nplugins:\n  mcp:\n    servers:\n      \(server):\n        command: x\n").first?.contains("would exceed 64 characters") == true)
    }

    @Test func anUnsetEnvironmentVariableIsNamed() {
        let yaml = "version: 1\nplugins:\n  mcp:\n    servers:\n      t:\n        command: x\n        env: { TOKEN: \"${SECRET_TOKEN}\", TZ: \"${TZ:-UTC}\" }\n"
        #expect(problems(yaml) == ["7:23: plugins.mcp.servers.t.env.TOKEN: environment variable 'SECRET_TOKEN' is not set"])
        let manifest = try? ManifestLoader.parse(yaml, environment: ["SECRET_TOKEN": "s3cret"])
        #expect(manifest?.plugins.mcp?.servers.first?.env == ["TOKEN": "s3cret", "TZ": "UTC"])
    }

    @Test func everyProblemInTheFileIsReportedAtOnceInFileOrder() {
        let yaml = "version: 2\nhots: {}\nsync:\n  interval: soon\npolicy:\n  mode: enforcing\n"
        let found = problems(yaml)
        #expect(found.count == 4)
        #expect(found.map { $0.prefix(while: { $0 != ":" }) } == ["1", "2", "4", "6"])
        #expect(found[3].hasSuffix("did you mean 'enforce'?"))
    }

    @Test func diagnosticsPrintAsFileLineColumnMessage() throws {
        do {
            _ = try ManifestLoader.parse("version: 1\nnope: 1\n", file: "conf/registry.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "conf/registry.yaml:2:1: unknown key 'nope' in the manifest")
        }
    }
}
