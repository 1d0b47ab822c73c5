import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// The Skills extension (`io.modelcontextprotocol/skills`) as a conforming client meets it, over
/// stdio and HTTP in both protocol generations: `Tests/Interop/skills_conformance.py`, on the Python
/// `mcp` SDK, pages `skills/list`, compares each frontmatter with the SKILL.md it reads back,
/// recomputes every digest and size, walks each skill with `resources/directory/read`, gets a
/// shadowed copy by URI and is refused a hidden one; over HTTP it also compares the REST entry and
/// file routes. Two sources hold `shared-skill`: alpha's serves the name, beta's is shadowed.
@Suite(.serialized) struct SkillsExtensionTests {
    static let manifest = OneAnswerEveryFrontTests.manifest

    /// Files a real skill has that trip naive servers: a binary, a byte order mark and CRLF, deep
    /// folders, a name with a space, frontmatter with nested, numeric, list and extra fields; a
    /// symlink in another skill (listed, never followed, not served).
    static func writeSkills(in dir: String) throws {
        try write("""
            ---
            name: shared-skill
            description: "A widget skill from alpha: quoted, with a colon"
            license: Apache-2.0
            allowed-tools: Read Bash(git:*)
            metadata:
              version: "1.2"
              nested: {depth: 2, flag: true}
            x-count: 42
            x-list: [a, b]
            ---
            Use the widget (alpha). See references/deep/more/notes.md.
            """ + "\n", to: "alpha/shared-skill/SKILL.md", in: dir)
        try write(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF]), to: "alpha/shared-skill/assets/logo.png", in: dir)
        try write(Data([0xEF, 0xBB, 0xBF]) + Data("first\r\nsecond\r\n".utf8), to: "alpha/shared-skill/references/bom.txt", in: dir)
        try write("deep notes\n", to: "alpha/shared-skill/references/deep/more/notes.md", in: dir)
        try write("spaced\n", to: "alpha/shared-skill/templates/with space.md", in: dir)
        try write(OneAnswerEveryFrontTests.skill("linked-skill", "alpha"), to: "alpha/linked-skill/SKILL.md", in: dir)
        try FileManager.default.createSymbolicLink(atPath: dir + "/alpha/linked-skill/passwd", withDestinationPath: "/etc/passwd")
        try write(OneAnswerEveryFrontTests.skill("shared-skill", "beta"), to: "beta/shared-skill/SKILL.md", in: dir)
        try write("beta's own file\n", to: "beta/shared-skill/beta.md", in: dir)
        try write(OneAnswerEveryFrontTests.skill("beta-only", "beta"), to: "beta/beta-only/SKILL.md", in: dir)
    }

    func python() throws -> String {
        try #require(testPython(), "no test virtualenv with the mcp SDK: run `make test` (it creates .venv)")
    }

    /// Runs the conformance client and returns the URIs it saw listed, recording its failures.
    func conform(_ arguments: [String], in dir: String) async throws -> [String] {
        let result = try await run(try python(), [packageRoot + "/Tests/Interop/skills_conformance.py"] + arguments, in: dir)
        let report = try #require(try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "skills_conformance.py printed no report (exit \(result.status)): \(result.stderr.suffix(3000))")
        for failure in report["failures"] as? [String] ?? ["no failures list"] { Issue.record("\(arguments.prefix(2)): \(failure)") }
        #expect((report["checks"] as? Int ?? 0) > 15, "the conformance client ran too few checks")
        return report["listed"] as? [String] ?? []
    }

    @Test(arguments: ["auto", "legacy"])
    func aConformingClientGetsEverySkillExactlyOverStdioAndHTTP(mode: String) async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeSkills(in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest, agents: ["a", "b", "e"])
            let shadowed = "skill://beta/shared-skill/SKILL.md"
            let stdio = try await conform(["stdio", mode, agenthubBinary(), dir, "everyone", "--shadowed", shadowed], in: dir)
            #expect(stdio == ["skill://alpha/linked-skill/SKILL.md", "skill://alpha/shared-skill/SKILL.md", "skill://beta/beta-only/SKILL.md"])
            let http = try await conform(["http", mode, "http://127.0.0.1:\(api.port)/mcp", api.keys["e"]!,
                                          "--rest", "http://127.0.0.1:\(api.port)", "--shadowed", shadowed], in: dir)
            #expect(http == stdio)
            // A role limited to alpha is refused beta's skills as if they did not exist.
            let alphas = try await conform(["stdio", mode, agenthubBinary(), dir, "alphas", "--hidden", "skill://beta/beta-only/SKILL.md"], in: dir)
            #expect(alphas == ["skill://alpha/linked-skill/SKILL.md", "skill://alpha/shared-skill/SKILL.md"])
            let betas = try await conform(["http", mode, "http://127.0.0.1:\(api.port)/mcp", api.keys["b"]!,
                                           "--hidden", "skill://alpha/shared-skill/SKILL.md"], in: dir)
            // beta's shared-skill is shadowed by alpha's, which betas may not see: it serves no name.
            #expect(betas == ["skill://beta/beta-only/SKILL.md"])
        }
    }

    /// A role sees the same skills through `skills/list` as through the REST API and search.
    @Test func everyFrontListsTheSameSkillsForARole() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeSkills(in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest, agents: ["a", "b", "e"])
            for (agent, role) in [("a", "alphas"), ("b", "betas"), ("e", "everyone")] {
                let listed = try await conform(["stdio", "auto", agenthubBinary(), dir, role], in: dir)
                let rest = await api.call("GET", "/v1/skills?limit=200", as: agent).json["skills"] as? [[String: Any]] ?? []
                let restURIs = rest.map { "skill://\($0["source"] as? String ?? "?")/\($0["name"] as? String ?? "?")/SKILL.md" }.sorted()
                #expect(listed == restURIs, "\(role): skills/list \(listed) vs REST \(restURIs)")
            }
        }
    }

    /// What the entry says beside the extension's fields: the source, a shadowed copy, files it
    /// cannot serve; the deprecated `skill://NAME` still reads, marked.
    @Test func entriesNameWhatTheExtensionHasNoPlaceFor() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeSkills(in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest, agents: ["e"])
            let linked = await api.call("GET", "/v1/skills/alpha/linked-skill", as: "e")
            #expect(linked.status == 200)
            let meta = linked.json["_meta"] as? [String: Any] ?? [:]
            let unserved = meta["io.agenthub/unserved"] as? [[String: Any]] ?? []
            #expect(unserved.first?["path"] as? String == "passwd" && (unserved.first?["why"] as? String)?.contains("symlink") == true, "\(meta)")
            let resources = linked.json["resources"] as? [[String: Any]] ?? []
            #expect(!resources.contains { ($0["uri"] as? String)?.hasSuffix("passwd") == true })
            let shadow = await api.call("GET", "/v1/skills/beta/shared-skill", as: "e")
            #expect((shadow.json["_meta"] as? [String: Any])?["io.agenthub/shadowed"] as? Bool == true)
            #expect(await api.call("GET", "/v1/skills/beta/shared-skill/files/passwd", as: "e").status == 404)
            #expect(await api.call("GET", "/v1/skills/alpha/linked-skill/files/passwd", as: "e").status == 404)
            #expect(await api.call("GET", "/v1/skills/nowhere/shared-skill", as: "e").status == 404)

            let stdio = try RunningProcess(agenthubBinary(), ["mcp", "--role", "everyone", "--no-sync"], in: dir)
            defer { stdio.closeInput() }
            stdio.send(#"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}"# + "\n")
            _ = await stdio.nextJSON(timeout: 30)
            stdio.send(#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"# + "\n")
            stdio.send(#"{"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "skill://shared-skill"}}"# + "\n")
            let old = await stdio.nextJSON(timeout: 30)
            let content = ((old["result"] as? [String: Any])?["contents"] as? [[String: Any]])?.first ?? [:]
            #expect((content["text"] as? String)?.contains("(alpha)") == true, "\(old)")
            #expect(((content["_meta"] as? [String: Any])?["io.agenthub/deprecated"] as? String)?.contains("skill://alpha/shared-skill/SKILL.md") == true)
            stdio.send(#"{"jsonrpc": "2.0", "id": 3, "method": "skills/get", "params": {"uri": "skill://alpha/shared-skill"}}"# + "\n")
            let notSkillMD = await stdio.nextJSON(timeout: 30)
            #expect((notSkillMD["error"] as? [String: Any])?["code"] as? Int == -32602, "\(notSkillMD)")
        }
    }
}
