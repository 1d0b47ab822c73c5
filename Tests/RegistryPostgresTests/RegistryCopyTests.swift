import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// `agenthub db copy`: a populated SQLite registry moves into PostgreSQL whole, the counts per
/// table match, what PostgreSQL cannot store is reported instead of failing the copy, and a target
/// that already holds a registry is refused unless told.
@Suite(.serialized) struct RegistryCopyTests {
    static let logger = Logger(label: "test")

    /// A registry with a row in every copied table, and the awkward values PostgreSQL refuses.
    func populate(_ root: String) throws -> RegistryDatabase {
        for (name, words) in [("pdf-tools", "Extract text from PDF documents."), ("chart-maker", "Draw charts from CSV data."),
                              ("csv-cleaner", "Clean CSV files.")] {
            try write("---\nname: \(name)\ndescription: \(words)\n---\n\n# \(name)\n\nUse it well.\n", to: "main/\(name)/SKILL.md", in: root)
            try write("notes for \(name)\n", to: "main/\(name)/reference/notes.md", in: root)
        }
        // The same skill in a second source, shadowed by the first.
        try write("---\nname: pdf-tools\ndescription: An older copy.\n---\n\nOld.\n", to: "extra/pdf-tools/SKILL.md", in: root)
        let sqlite = try RegistryDatabase(path: root + "/db/registry.db")
        try sqlite.declareSources([SourceDescriptor(name: "main", kind: .local, location: root + "/main", position: 0),
                                   SourceDescriptor(name: "extra", kind: .local, location: root + "/extra", position: 1)])
        for source in ["main", "extra"] {
            _ = try sqlite.publish(SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/" + source)), to: source, options: PublishOptions())
        }
        let now = Date().timeIntervalSince1970
        for index in 0..<250 {
            _ = try sqlite.insertMemory(MemoryRecord(type: .episodic, scope: .agent, owner: "ada", text: "meeting \(index) about the quarterly budget",
                                                     metadata: #"{"n":\#(index)}"#, importance: 0.5, createdAt: now + Double(index), agent: "ada", role: nil))
        }
        _ = try sqlite.insertMemory(MemoryRecord(type: .core, scope: .agent, owner: "ada", text: "a NUL", metadata: #"{"k":"a\u0000b","e":"\\u0000"}"#,
                                                 importance: 1, createdAt: now, agent: "ada", role: nil))
        try sqlite.appendTraceEvents((0..<1_200).map { index in
            TraceEvent(at: "2026-12-07T06:00:00Z", type: "tool.call", session: "s\(index % 7)", spanId: String(format: "%016x", index), agent: "ada",
                       role: "writer", group: nil, tool: "memory_get", decision: "allow", durationMs: 0.2, detail: .object(["i": .int(index)]))
        })
        var reported = TraceEvent(at: "2026-12-07T06:01:00Z", type: "agent.status", session: "s1", spanId: "ff00ff00ff00ff00", agent: "ada",
                                  role: nil, group: nil, tool: "")
        reported.state = "working"
        _ = try sqlite.ingestAgentEvents([reported], reportedTypes: ["agent.status"])
        var request = ApprovalRecord(id: "apr_copy1", tool: "write_file", arguments: #"{"path":"a.txt"}"#, argumentsDigest: "d", agent: "ada", role: "writer",
                                     group: nil, session: "s1", spanId: "00aa", rule: "registry.yaml:3:5", ruleKey: "k", policyReason: "asked",
                                     revision: "abc", hostId: "h", createdAt: Date(), expiresAt: Date().addingTimeInterval(600))
        request.approvers = .operator
        try sqlite.insertApproval(request)
        _ = try sqlite.decideApproval("apr_copy1", ApprovalAnswer(granted: true, by: "cli:bob", via: "cli", scope: .agent,
                                                                  grantExpiresAt: Date().addingTimeInterval(3600)), grantId: "grant-copy")
        try sqlite.insertAPIKey(APIKeyRecord(id: "key_copy", agent: "ada", label: "laptop", hint: "ah_…abcd", createdAt: Date(), expiresAt: nil),
                                hash: Data(repeating: 7, count: 32))
        _ = try sqlite.pinTool("time__now", server: "time", digest: "feed")
        // GRDB binds text up to its first NUL; SQLite itself stores one (another writer, the sqlite3 shell, may have).
        let shell = try run("/usr/bin/sqlite3", [root + "/db/registry.db", "UPDATE memories SET text = 'a NUL ' || char(0) || ' inside' WHERE type = 'core'"])
        #expect(shell.status == 0, "\(shell.stderr)")
        return sqlite
    }

    func copy(_ arguments: [String], in root: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(agenthubBinary(), ["db", "copy"] + arguments, in: root)
    }

    @Test func aPopulatedRegistryIsCopiedWholeAndTheCountsMatch() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { root in
            let sqlite = try populate(root)
            // The password comes from the environment, never from the command line.
            let url = server.url(password: "${AGENTHUB_TEST_PG_PASSWORD}")
            setenv("AGENTHUB_TEST_PG_PASSWORD", server.password, 1)
            let copied = try copy(["--from", root + "/db/registry.db", "--to", url, "--json"], in: root)
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(!copied.stdout.contains(server.password) && !copied.stderr.contains(server.password))
            let report = try JSONSerialization.jsonObject(with: Data(copied.stdout.utf8)) as? [String: Any]
            #expect(report?["matches"] as? Bool == true)
            #expect(report?["nuls_replaced"] as? Int == 1 && report?["json_nuls_replaced"] as? Int == 1, "\(copied.stdout)")
            let tables = (report?["tables"] as? [[String: Any]]) ?? []
            let counts = Dictionary(uniqueKeysWithValues: tables.map { ($0["table"] as? String ?? "", ($0["sqlite"] as? Int ?? -1, $0["postgres"] as? Int ?? -2)) })
            #expect(Set(counts.keys) == Set(RegistryTable.copied.map(\.name)))
            for (table, pair) in counts {
                #expect(pair.0 == pair.1, "\(table): \(pair)")
                #expect(pair.0 > 0, "\(table) was not populated by the test")
            }
            #expect(counts["memories"]?.0 == 251 && counts["trace_events"]?.0 == 1_201)

            // What was copied is served: search, shadowing, memory search, approvals, keys; new rows continue the ids.
            guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { return }
            let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
            defer { postgres.close() }
            #expect(try await postgres.skills(SkillQuery(text: "pdf", limit: 10)).map(\.name) == (try sqlite.skills(SkillQuery(text: "pdf", limit: 10)).map(\.skill.name)))
            #expect(try server.psql("SELECT count(*) FROM skills WHERE shadowed_by IS NOT NULL") == "1")
            let hits = try await postgres.searchMemories(MemorySearch(text: "quarterly budget", visibility: MemoryVisibility(agent: "ada", role: nil, group: nil)))
            #expect(!hits.isEmpty)
            #expect(try await postgres.approval("apr_copy1")?.status == .granted)
            #expect(try await postgres.apiKey(hash: Data(repeating: 7, count: 32))?.id == "key_copy")
            let next = try await postgres.insertMemory(MemoryRecord(type: .core, scope: .agent, owner: "ada", text: "after the copy", metadata: nil,
                                                                    importance: 1, createdAt: 0, agent: "ada", role: nil))
            #expect(next > 251)
            #expect(try server.psql("SELECT text FROM memories WHERE text LIKE 'a NUL%'") == "a NUL \u{FFFD} inside")
            #expect(try server.psql("SELECT metadata->>'k' || '|' || (metadata->>'e') FROM memories WHERE text LIKE 'a NUL%'") == "a\u{FFFD}b|\\u0000")

            // A second copy is refused (the target holds a registry) and changes nothing; --replace redoes it.
            let again = try copy(["--from", root + "/db/registry.db", "--to", url], in: root)
            #expect(again.status == 1)
            #expect(again.stderr.contains("already holds a registry") && again.stderr.contains("--replace"), "\(again.stderr)")
            #expect(try server.psql("SELECT count(*) FROM memories") == "252")
            let replaced = try copy(["--from", root + "/db/registry.db", "--to", url, "--replace"], in: root)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(replaced.stdout.contains("trace_events") && replaced.stdout.contains("1201"))
            #expect(try server.psql("SELECT count(*) FROM memories") == "251")
        }
    }

    @Test func aWrongPasswordOrAMissingFileIsRefusedWithoutShowingThePassword() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { root in
            _ = try populate(root)
            let wrong = try copy(["--from", root + "/db/registry.db", "--to", server.url(password: "not-the-password-123")], in: root)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("127.0.0.1") && !wrong.stderr.contains("not-the-password-123"), "\(wrong.stderr)")
            let missing = try copy(["--from", root + "/nowhere.db", "--to", server.url()], in: root)
            #expect(missing.status == 1 && missing.stderr.contains("nowhere.db"))
            let unset = try copy(["--from", root + "/db/registry.db", "--to", "postgres://u:${AGENTHUB_NOT_SET_ANYWHERE}@127.0.0.1/x"], in: root)
            #expect(unset.status == 64 && unset.stderr.contains("AGENTHUB_NOT_SET_ANYWHERE"), "\(unset.stderr)")
            #expect(try server.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'memories'") == "0", "a refused copy created nothing")
        }
    }
}
