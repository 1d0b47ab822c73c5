import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// Live reload seen by real clients: the Python `mcp` SDK connected to `agenthub mcp`, and
/// `agenthub reload` reaching every host on a registry.
@Suite(.serialized) struct ReloadInteropTests {
    static func manifest(allow: String = "[skills_search]", roles: String = "  worker: {}\n  other: {}", mode: String = "enforce") -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        policy:
          mode: \(mode)
          default: deny
          rules:
            - allow: \(allow)
        roles:
        \(roles)
        plugins:
          skills: {}
          memory: {}
        """
    }

    /// The Python client of `reload_client.py`, connected as `worker`.
    func client(_ dir: String) async throws -> RunningProcess {
        let python = try #require(testPython(), "the test virtualenv (make venv) is needed")
        let client = try RunningProcess(python, [packageRoot + "/Tests/Interop/reload_client.py", agenthubBinary(), dir,
                                                 "--role", "worker", "--agent", "reloader", "--no-sync"], in: dir)
        let ready = await client.nextJSON()
        #expect(ready["ready"] as? Bool == true, "\(ready) \(client.stderr)")
        return client
    }

    func ask(_ client: RunningProcess, _ command: String) async -> [String: Any] {
        client.send(command + "\n")
        return await client.nextJSON()
    }

    @Test func anEditThatAllowsAToolReachesAConnectedClientWithListChanged() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(), to: "registry.yaml", in: dir)
            let client = try await client(dir)
            #expect(await ask(client, "list")["tools"] as? [String] == ["skills_search"])

            try write(Self.manifest(allow: "[skills_search, memory_search]"), to: "registry.yaml", in: dir)
            let changed = await ask(client, "wait")
            #expect(changed["timeout"] == nil, "no list_changed after the edit: \(changed)")
            #expect(await ask(client, "list")["tools"] as? [String] == ["memory_search", "skills_search"])
            let call = await ask(client, #"call memory_search {"query": "anything"}"#)
            #expect(call["error"] as? Bool == false, "\(call)")

            // A broken edit keeps the old policy, and says where it is broken.
            try write(Self.manifest(allow: "[skills_search, memory_search]").replacingOccurrences(of: "  default: deny", with: "  default: maybe"),
                      to: "registry.yaml", in: dir)
            var status: [String: Any] = [:]
            for _ in 0..<300 {
                status = jsonObject(try await run(agenthubBinary(), ["status", "--json"], in: dir).stdout)
                let last = (status["hosts"] as? [[String: Any]])?.first?["last_reload"] as? [String: Any]
                if last?["result"] as? String == "rejected" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let last = (status["hosts"] as? [[String: Any]])?.first?["last_reload"] as? [String: Any]
            #expect(last?["result"] as? String == "rejected", "\(status)")
            let errors = last?["errors"] as? [String] ?? []
            #expect(errors.contains { $0.hasPrefix("registry.yaml:5:12: ") && $0.contains("policy.default") }, "\(errors)")
            let still = await ask(client, #"call memory_search {"query": "anything"}"#)
            #expect(still["error"] as? Bool == false, "the last good policy still allows memory_search: \(still)")

            // A fixed edit applies: memory_search is denied again.
            try write(Self.manifest(), to: "registry.yaml", in: dir)
            let again = await ask(client, "wait")
            #expect(again["timeout"] == nil, "\(again)")
            #expect(await ask(client, "list")["tools"] as? [String] == ["skills_search"])
            let denied = await ask(client, #"call memory_search {"query": "anything"}"#)
            #expect(denied["rpc_error"] as? Int == -32602, "\(denied)")

            // The session's role leaves the manifest: the client is told and its calls are refused.
            try write(Self.manifest(roles: "  other: {}"), to: "registry.yaml", in: dir)
            _ = await ask(client, "wait")
            #expect(await ask(client, "list")["tools"] as? [String] == [])
            let refused = await ask(client, #"call skills_search {"query": "x"}"#)
            #expect(refused["error"] as? Bool == true)
            #expect((refused["text"] as? String ?? "").contains("no longer fits the manifest"), "\(refused)")
            let messages = await ask(client, "messages")["messages"] as? [String] ?? []
            #expect(messages.contains { $0.contains("unknown role 'worker'") }, "\(messages)")

            // The role comes back: so do its tools, and its calls work again.
            try write(Self.manifest(), to: "registry.yaml", in: dir)
            let back = await ask(client, "wait")
            #expect(back["timeout"] == nil, "\(back)")
            #expect(await ask(client, "list")["tools"] as? [String] == ["skills_search"])
            let works = await ask(client, #"call skills_search {"query": "x"}"#)
            #expect(works["error"] as? Bool == false, "\(works)")
            client.send("quit\n")
            #expect(await client.waitExit())
        }
    }

    @Test func aForgedHostRowNeverMakesReloadSignalAnotherProgram() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(), to: "registry.yaml", in: dir)
            let victim = try RunningProcess("/bin/sleep", ["300"], in: dir)
            defer { victim.signal(SIGKILL) }
            let ticks = try #require(ProcessIdentity.startTicks(of: victim.pid))
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            try registry.registerHost(HostRecord(id: "\(victim.pid)@\(ticks)", pid: victim.pid, startTicks: ticks, kind: "serve",
                                                 config: "registry.yaml", startedAt: Date(), revision: "forged"))
            let result = try await run(agenthubBinary(), ["reload"], in: dir)
            #expect(result.stdout.contains("no host is running"), "\(result.stdout)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(victim.process.isRunning, "agenthub reload signalled a program that is not a host")
        }
    }

    @Test func agenthubReloadReportsEachHostOnTheRegistry() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest(), to: "registry.yaml", in: dir)
            let (serve, _) = try await startServe(dir, ["--no-sync"])
            let mcp = try await client(dir)
            var hosts: [[String: Any]] = []
            for _ in 0..<300 {
                hosts = jsonObject(try await run(agenthubBinary(), ["status", "--json"], in: dir).stdout)["hosts"] as? [[String: Any]] ?? []
                if hosts.count == 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(Set(hosts.compactMap { $0["kind"] as? String }) == ["serve", "mcp"], "\(hosts)")

            // Broken: each host rejects it, and the command says where, for each, and exits 1.
            let broken = Self.manifest().replacingOccurrences(of: "  mode: enforce", with: "  mode: sometimes")
            let text = try Data(contentsOf: URL(fileURLWithPath: dir + "/registry.yaml"))
            try write(broken, to: "registry.yaml", in: dir)
            let rejected = try await run(agenthubBinary(), ["reload"], in: dir)
            #expect(rejected.status == 1)
            let lines = rejected.stdout.split(separator: "\n")
            #expect(lines.filter { $0.hasPrefix("pid ") && $0.contains("rejected") }.count == 2, "\(rejected.stdout)")
            #expect(lines.filter { $0.contains("registry.yaml:4:9: policy.mode") }.count == 2, "\(rejected.stdout)")
            #expect(rejected.stdout.contains("pid \(serve.pid) (serve"))

            // Fixed: each host serves it (the watcher may have applied it first: then the signal finds it unchanged).
            try write(Self.manifest(allow: "[skills_search, memory_get]"), to: "registry.yaml", in: dir)
            let applied = try await run(agenthubBinary(), ["reload", "--json"], in: dir)
            #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
            let results = (try? JSONSerialization.jsonObject(with: Data(applied.stdout.utf8)) as? [[String: Any]]) ?? []
            let revision = ManifestLoader.revision(of: try Data(contentsOf: URL(fileURLWithPath: dir + "/registry.yaml")))
            #expect(results.count == 2)
            for result in results {
                #expect(["applied", "unchanged"].contains(result["result"] as? String ?? ""), "\(result)")
                #expect(result["revision"] as? String == revision)
            }
            #expect(revision != ManifestLoader.revision(of: text))
            mcp.send("quit\n")
            serve.signal(SIGTERM)
            #expect(await mcp.waitExit())
            #expect(await serve.waitExit())
        }
    }
}
