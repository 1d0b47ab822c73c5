import Foundation
import TestSupport
@testable import Host

/// A running `agenthub serve` with keys for three agents: `reader` and `writer` (role `researcher`,
/// which sees the `public` skills only) and `boss` (role `editor`, admin, sees every skill).
struct APIHost {
    let dir: String
    let host: RunningProcess
    let port: Int
    var keys: [String: String]

    static func manifest(http: String = "", extraAgents: String = "") -> String {
        """
        version: 1
        host: { database: registry.db, cache: cache }
        sources:
          - { name: local, path: ./skills }
        policy:
          default: deny
          rules:
            - allow: [skills_search, skills_get, memory_get, memory_search, memory_write, read_file]
            - deny: [write_file]
          risk: { write_file: high }
        roles:
          researcher: { skills: ["local/public-*"] }
          editor: { skills: ["*"] }
        plugins:
          memory: {}
          skills: {}
          file: { roots: [./skills] }
        \(http)
        agents:
          reader: { role: researcher }
          writer: { role: researcher }
          boss: { role: editor, admin: true }
        \(extraAgents)
        """
    }

    /// Writes the manifest and skills into `dir`, makes a key per agent and starts the host.
    static func start(_ dir: String, manifest: String = manifest(), agents: [String] = ["reader", "writer", "boss"],
                      environment: [String: String] = [:]) async throws -> APIHost {
        try write("---\nname: public-guide\ndescription: A guide anyone may read.\n---\nRead the guide.\n", to: "skills/public-guide/SKILL.md", in: dir)
        try write("Some notes.\n", to: "skills/public-guide/notes/usage.md", in: dir)
        try write("---\nname: secret-plan\ndescription: Only editors see this.\n---\nThe plan.\n", to: "skills/secret-plan/SKILL.md", in: dir)
        try write(manifest, to: "registry.yaml", in: dir)
        var keys: [String: String] = [:]
        for agent in agents {
            let made = try await run(agenthubBinary(), ["keys", "create", "--agent", agent], in: dir)
            guard made.status == 0 else { throw HTTPTestError("keys create --agent \(agent) failed: \(made.stderr)") }
            keys[agent] = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var env = ProcessInfo.processInfo.environment
        env["AGENTHUB_BINARY"] = agenthubBinary()
        for (name, value) in environment { env[name] = value }
        let host = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"], in: dir, environment: env)
        guard let text = await host.waitForStderr("listening on http://127.0.0.1:"),
              let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":").last ?? "") else {
            throw HTTPTestError("serve did not start: \(host.stderr)")
        }
        let api = APIHost(dir: dir, host: host, port: port, keys: keys)
        // Ready once the local source has synced.
        for _ in 0..<600 {
            if await http(port, "GET", "/ready")?.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return api
    }

    /// A request as `agent` (nil: no key).
    func call(_ method: String, _ path: String, as agent: String?, body: String? = nil, headers: [String: String] = [:]) async -> HTTPAnswer {
        var headers = headers
        if let agent { headers["Authorization"] = "Bearer \(keys[agent] ?? agent)" }
        return await http(port, method, path, headers: headers, body: body) ?? HTTPAnswer(status: 0, headers: [:], body: "no answer")
    }

    /// Every event `agent` can page through, after `after`.
    func events(as agent: String, query: String = "") async -> [[String: Any]] {
        var all: [[String: Any]] = []
        var after = 0
        while true {
            let page = await call("GET", "/v1/events?limit=1000&after=\(after)\(query)", as: agent).json
            let events = page["events"] as? [[String: Any]] ?? []
            if events.isEmpty { return all }
            all += events
            after = events.last?["id"] as? Int ?? after
        }
    }
}
