import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// The same questions through every front (the CLI, MCP over stdio, MCP over HTTP, the REST API and
/// the console) get one answer: which copy of a shadowed skill a role sees, and what a source's
/// status is. Two sources hold `shared-skill`; alpha's copy serves the name, beta's is shadowed.
@Suite(.serialized) struct OneAnswerEveryFrontTests {
    static let manifest = """
        version: 1
        host: { database: registry.db, cache: cache }
        sources:
          - { name: alpha, path: ./alpha }
          - { name: beta, path: ./beta }
        policy:
          default: deny
          rules:
            - allow: [skills_search, skills_get]
        roles:
          alphas: { skills: ["alpha/*"] }
          betas: { skills: ["beta/*"] }
          everyone: { skills: ["*"] }
        plugins:
          skills: {}
        agents:
          a: { role: alphas }
          b: { role: betas }
          e: { role: everyone }
        """

    static func skill(_ name: String, _ source: String) -> String {
        "---\nname: \(name)\ndescription: A widget skill from \(source).\n---\nUse the widget (\(source)).\n"
    }

    /// What one front says a role sees: the source of `shared-skill` in search, in a listing and by
    /// name (nil: not shown), and whether `beta-only` shows in search.
    struct Answer: Equatable, CustomStringConvertible {
        var search: String?
        var list: String?
        var byName: String?
        var betaOnly: Bool
        var description: String { "search \(search ?? "-"), list \(list ?? "-"), by name \(byName ?? "-"), beta-only \(betaOnly)" }
    }

    /// The source named in a `skill://shared-skill` read (the body names it), or nil.
    static func sourceInText(_ text: String?) -> String? {
        guard let text else { return nil }
        if text.contains("(alpha)") || text.contains("from alpha") { return "alpha" }
        if text.contains("(beta)") || text.contains("from beta") { return "beta" }
        return nil
    }

    static func sharedSource(in skills: [[String: Any]]) -> String? {
        skills.first { $0["name"] as? String == "shared-skill" }?["source"] as? String
    }

    @Test func everyFrontShowsARoleTheSameCopyOfAShadowedSkill() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.skill("shared-skill", "alpha"), to: "alpha/shared-skill/SKILL.md", in: dir)
            try write(Self.skill("shared-skill", "beta"), to: "beta/shared-skill/SKILL.md", in: dir)
            try write(Self.skill("beta-only", "beta"), to: "beta/beta-only/SKILL.md", in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest, agents: ["a", "b", "e"])
            let roles = ["a": "alphas", "b": "betas", "e": "everyone"]
            // What the rule says (README, "Who sees which skill"): a name means the copy that serves it.
            let expected: [String: Answer] = [
                "a": Answer(search: "alpha", list: "alpha", byName: "alpha", betaOnly: false),
                "b": Answer(search: nil, list: nil, byName: nil, betaOnly: true),
                "e": Answer(search: "alpha", list: "alpha", byName: "alpha", betaOnly: true),
            ]
            for agent in ["a", "b", "e"] {
                let role = roles[agent]!
                var answers: [String: Answer] = [:]

                // The skills tools from the CLI.
                let cliSearch = try await run(agenthubBinary(), ["tools", "call", "skills_search", "--role", role, "--json", "--args", #"{"query": "widget"}"#], in: dir)
                let cliHits = (jsonObject(cliSearch.stdout)["structuredContent"] as? [String: Any])?["results"] as? [[String: Any]]
                    ?? (jsonObject(cliSearch.stdout)["results"] as? [[String: Any]]) ?? []
                let cliGet = try await run(agenthubBinary(), ["tools", "call", "skills_get", "--role", role, "--json", "--args", #"{"name": "shared-skill"}"#], in: dir)
                answers["cli"] = Answer(search: Self.sharedSource(in: cliHits), list: Self.sharedSource(in: cliHits),
                                        byName: cliGet.status == 0 ? Self.sourceInText(cliGet.stdout) : nil,
                                        betaOnly: cliHits.contains { $0["name"] as? String == "beta-only" })

                // MCP over stdio.
                let stdio = try RunningProcess(agenthubBinary(), ["mcp", "--role", role, "--agent", agent, "--no-sync"], in: dir)
                var nextId = 0
                func ask(_ method: String, _ params: String) async -> [String: Any] {
                    nextId += 1
                    stdio.send(#"{"jsonrpc": "2.0", "id": \#(nextId), "method": "\#(method)", "params": \#(params)}"# + "\n")
                    while true {
                        let message = await stdio.nextJSON(timeout: 30)
                        if message["id"] as? Int == nextId || message["missing"] != nil { return message }
                    }
                }
                _ = await ask("initialize", #"{"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}"#)
                stdio.send(#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"# + "\n")
                answers["mcp-stdio"] = await Self.mcpAnswer(ask)
                stdio.closeInput()
                _ = await stdio.waitExit()

                // MCP over HTTP, in a session.
                var headers = MCPHTTPTests.accept
                let opened = await api.call("POST", "/mcp", as: agent, body: #"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}"#, headers: headers)
                headers["Mcp-Session-Id"] = try #require(opened.headers["mcp-session-id"])
                headers["MCP-Protocol-Version"] = "2025-11-25"
                _ = await api.call("POST", "/mcp", as: agent, body: #"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#, headers: headers)
                var httpId = 1
                answers["mcp-http"] = await Self.mcpAnswer { method, params in
                    httpId += 1
                    return await api.call("POST", "/mcp", as: agent, body: #"{"jsonrpc": "2.0", "id": \#(httpId), "method": "\#(method)", "params": \#(params)}"#, headers: headers).json
                }

                // The REST API.
                let restSearch = await api.call("GET", "/v1/skills?q=widget", as: agent).json["skills"] as? [[String: Any]] ?? []
                let restList = await api.call("GET", "/v1/skills", as: agent).json["skills"] as? [[String: Any]] ?? []
                let restByName = await api.call("GET", "/v1/skills/shared-skill", as: agent)
                answers["rest"] = Answer(search: Self.sharedSource(in: restSearch), list: Self.sharedSource(in: restList),
                                         byName: restByName.status == 200 ? restByName.json["source"] as? String : nil,
                                         betaOnly: restSearch.contains { $0["name"] as? String == "beta-only" })

                // The console.
                var console = ConsoleClient(port: api.port)
                _ = await console.signIn(api.keys[agent]!)
                let found = await console.get("/skills?q=widget").body
                let listed = await console.get("/skills").body
                let page = await console.get("/skills/shared-skill")
                func consoleSource(_ html: String) -> String? {
                    guard let row = html.components(separatedBy: "<tr").first(where: { $0.contains(">shared-skill<") }) else { return nil }
                    return row.contains(">alpha<") ? "alpha" : row.contains(">beta<") ? "beta" : "?"
                }
                answers["console"] = Answer(search: consoleSource(found), list: consoleSource(listed),
                                            byName: page.status == 200 ? Self.sourceInText(page.body) : nil,
                                            betaOnly: found.contains("beta-only"))

                for (front, answer) in answers.sorted(by: { $0.key < $1.key }) {
                    #expect(answer == expected[agent], "\(front) as \(agent) (role \(role)): \(answer)")
                }
            }
            // A shadowed copy is reached by naming its source, when the role may see that copy.
            let named = await api.call("GET", "/v1/skills/shared-skill?source=beta", as: "b")
            #expect(named.status == 200 && named.json["source"] as? String == "beta", "\(named.body)")
            #expect(await api.call("GET", "/v1/skills/shared-skill?source=beta", as: "a").status == 404)
            let tool = try await run(agenthubBinary(), ["tools", "call", "skills_get", "--role", "betas", "--args", #"{"name": "shared-skill", "source": "beta"}"#], in: dir)
            #expect(tool.status == 0 && tool.stdout.contains("(beta)"), "\(tool.stdout) \(tool.stderr)")
        }
    }

    /// An MCP front's answer: `skills_search`, `resources/list` and `resources/read skill://shared-skill`.
    static func mcpAnswer(_ ask: (String, String) async -> [String: Any]) async -> Answer {
        let searched = await ask("tools/call", #"{"name": "skills_search", "arguments": {"query": "widget"}}"#)
        let hits = ((searched["result"] as? [String: Any])?["structuredContent"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        let listed = await ask("resources/list", "{}")
        let resources = (listed["result"] as? [String: Any])?["resources"] as? [[String: Any]] ?? []
        let shared = resources.first { ($0["uri"] as? String)?.hasSuffix("/shared-skill/SKILL.md") == true }
        let read = await ask("resources/read", #"{"uri": "skill://shared-skill"}"#)
        let text = (((read["result"] as? [String: Any])?["contents"] as? [[String: Any]])?.first)?["text"] as? String
        return Answer(search: sharedSource(in: hits), list: shared.flatMap { sourceInText($0["description"] as? String) },
                      byName: sourceInText(text), betaOnly: hits.contains { $0["name"] as? String == "beta-only" })
    }

    @Test func everyFrontReportsOneStatusForASourceWhoseSyncWasInterrupted() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.skill("shared-skill", "alpha"), to: "alpha/shared-skill/SKILL.md", in: dir)
            try write(Self.skill("beta-only", "beta"), to: "beta/beta-only/SKILL.md", in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest, agents: ["e"])
            // A process on this machine that no longer exists marked beta syncing, then died.
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            try registry.markSyncing("beta", owner: "\(ProcessInfo.processInfo.hostName):\(Int32.max - 7):dead")

            func pick(_ sources: [[String: Any]]) -> [String: String] {
                var out: [String: String] = [:]
                for s in sources {
                    guard let name = s["name"] as? String else { continue }
                    out[name] = "\(s["status"] as? String ?? "?")/\(s["failure_kind"] as? String ?? "-")"
                }
                return out
            }
            let expected = ["alpha": "ready/-", "beta": "failed/interrupted"]
            let rest = pick(await api.call("GET", "/v1/sources", as: "e").json["sources"] as? [[String: Any]] ?? [])
            let cli = try await run(agenthubBinary(), ["sources", "--json"], in: dir)
            let cliSources = pick((try? JSONSerialization.jsonObject(with: Data(cli.stdout.utf8))) as? [[String: Any]] ?? [])
            let status = try await run(agenthubBinary(), ["status", "--json"], in: dir)
            let statusSources = pick(jsonObject(status.stdout)["sources"] as? [[String: Any]] ?? [])
            #expect(rest == expected, "REST: \(rest)")
            #expect(cliSources == expected, "agenthub sources: \(cliSources)")
            #expect(statusSources == expected, "agenthub status: \(statusSources)")
            #expect(status.status == 1, "a failing source makes status exit 1")

            var console = ConsoleClient(port: api.port)
            _ = await console.signIn(api.keys["e"]!)
            let page = await console.get("/sources").body
            let row = page.components(separatedBy: "<tr id=\"source-").first { $0.hasPrefix("beta\"") } ?? ""
            #expect(row.contains(">failed<") && row.contains("interrupted"), "console: \(row)")
            // One shape: the CLI's source is the API's source.
            let restBeta = (await api.call("GET", "/v1/sources", as: "e").json["sources"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "beta" }
            let cliBeta = ((try? JSONSerialization.jsonObject(with: Data(cli.stdout.utf8))) as? [[String: Any]] ?? []).first { $0["name"] as? String == "beta" }
            #expect(Set(restBeta?.keys.map { $0 } ?? []) == Set(cliBeta?.keys.map { $0 } ?? []))
        }
    }
}
