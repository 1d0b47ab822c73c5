import Foundation
import Testing
import TestSupport

/// The CLI as a new operator meets it: versions, typos, bad arguments, a port in use, JSON that
/// scripts can read, commands that agree with each other, and a `check` that catches a server that
/// cannot start.
@Suite struct OperatorPathTests {
    static let manifest = """
        version: 1
        host: { database: state/registry.db }
        sources:
          - { name: alpha, path: ./a }
          - { name: beta, path: ./b }
        policy: { default: deny, rules: [{ allow: [skills_search] }] }
        roles:
          reader: {}
        plugins:
          skills: {}
        """

    func project(_ dir: String) throws {
        try write("---\nname: shared-skill\ndescription: Alpha's copy.\n---\nA.\n", to: "a/shared-skill/SKILL.md", in: dir)
        try write("---\nname: shared-skill\ndescription: Beta's copy.\nversion: 2\n---\nB.\n", to: "b/shared-skill/SKILL.md", in: dir)
        try write("---\nname: Not Valid\n---\nno description\n", to: "b/broken/SKILL.md", in: dir)
        try write(Self.manifest, to: "registry.yaml", in: dir)
    }

    @Test func versionTyposAndBadArgumentsGetPlainAnswersAndExit64() async throws {
        try await withTemporaryDirectory { dir in
            try project(dir)
            let version = try await run(agenthubBinary(), ["--version"], in: dir)
            #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
            let top = try await run(agenthubBinary(), ["skils"], in: dir)
            #expect(top.status == 64 && top.stderr.contains("Did you mean 'skills'?"), "\(top.stderr)")
            let nested = try await run(agenthubBinary(), ["approvals", "aprove", "apr_x"], in: dir)
            #expect(nested.status == 64 && nested.stderr.contains("Did you mean 'approve'?"), "\(nested.stderr)")
            let args = try await run(agenthubBinary(), ["tools", "call", "skills_search", "--role", "reader", "--args", #"{"query": 1,}"#], in: dir)
            #expect(args.status == 64 && args.stderr.contains("at byte"), "\(args.stderr)")
            let notObject = try await run(agenthubBinary(), ["tools", "call", "skills_search", "--role", "reader", "--args", "[1]"], in: dir)
            #expect(notObject.status == 64 && notObject.stderr.contains("must be a JSON object"), "\(notObject.stderr)")
            let type = try await run(agenthubBinary(), ["export", "--type", "tool.calld"], in: dir)
            #expect(type.status == 64 && type.stderr.contains("did you mean 'tool.called'"), "\(type.stderr)")
            #expect(try await run(agenthubBinary(), ["export", "--type", "tool.called,approval.requested"], in: dir).status == 0)
            #expect(try await run(agenthubBinary(), ["approvals", "list", "--status", "all"], in: dir).status == 0)
        }
    }

    @Test func skillJSONListsAreArraysAndShowFindsWhatListAllShows() async throws {
        try await withTemporaryDirectory { dir in
            try project(dir)
            #expect(try await run(agenthubBinary(), ["sync"], in: dir).status == 0)
            let listed = try await run(agenthubBinary(), ["skills", "list", "--all", "--json"], in: dir)
            let skills = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            #expect(skills.count == 3)
            for skill in skills {
                #expect(skill["load_errors"] is [Any] && skill["strict_errors"] is [Any] && skill["warnings"] is [Any], "\(skill)")
            }
            for skill in skills {
                let name = try #require(skill["name"] as? String)
                let shown = try await run(agenthubBinary(), ["skills", "show", name, "--json"], in: dir)
                #expect(shown.status == 0, "skills list --all shows \(name); skills show must find it: \(shown.stderr)")
            }
            let beta = try await run(agenthubBinary(), ["skills", "show", "shared-skill", "--source", "beta"], in: dir)
            #expect(beta.stdout.contains("shadowed"), "\(beta.stdout)")
            // sources and status count a source's skills the same way.
            let sources = try #require(try JSONSerialization.jsonObject(with: Data(try await run(agenthubBinary(), ["sources", "--json"], in: dir).stdout.utf8)) as? [[String: Any]])
            let status = try #require(try JSONSerialization.jsonObject(with: Data(try await run(agenthubBinary(), ["status", "--json"], in: dir).stdout.utf8)) as? [String: Any])
            let statusSources = status["sources"] as? [[String: Any]] ?? []
            for source in sources {
                let line = statusSources.first { $0["name"] as? String == source["name"] as? String }
                #expect(line?["skills"] as? Int == source["skills"] as? Int, "\(source) vs \(line ?? [:])")
            }
        }
    }

    @Test func checkNamesABridgedServerWhoseCommandCannotStartAtItsLine() async throws {
        try await withTemporaryDirectory { dir in
            try project(dir)
            try write(Self.manifest + """

                  mcp:
                    servers:
                      gone:
                        command: .venv/bin/python
                        args: [-m, mcp_server_time]
                      nowhere:
                        command: no-such-server-binary
                """, to: "registry.yaml", in: dir)
            let checked = try await run(agenthubBinary(), ["check"], in: dir)
            #expect(checked.status == 1)
            #expect(checked.stderr.contains("registry.yaml:14:18:") && checked.stderr.contains("servers.gone.command") && checked.stderr.contains("does not exist"), "\(checked.stderr)")
            #expect(checked.stderr.contains("servers.nowhere.command") && checked.stderr.contains("not found on the server's PATH"), "\(checked.stderr)")
            // Loading it is fine: every other command still works.
            #expect(try await run(agenthubBinary(), ["sources"], in: dir).status == 0)
        }
    }

    @Test func aPortInUseSaysWhichPortAndWhatHoldsIt() async throws {
        try await withTemporaryDirectory { dir in
            try project(dir)
            let first = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0", "--no-sync"], in: dir)
            guard let text = await first.waitForStderr("listening on http://127.0.0.1:"),
                  let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let port = Int(text[range].split(separator: ":").last ?? "") else { throw HTTPTestError("serve did not start: \(first.stderr)") }
            let second = try await run(agenthubBinary(), ["serve", "--http", "127.0.0.1:\(port)", "--no-sync"], in: dir)
            #expect(second.status != 0)
            #expect(second.stderr.contains("port \(port) is in use") && second.stderr.contains("pid \(first.process.processIdentifier)"), "\(second.stderr)")
            first.signal(SIGTERM)
            _ = await first.waitExit()
        }
    }
}
