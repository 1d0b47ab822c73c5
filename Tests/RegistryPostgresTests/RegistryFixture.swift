import Core
import Foundation
import Registry
import Testing
import TestSupport

/// A SQLite registry with rows in every table `db copy` moves, and values PostgreSQL cannot store
/// as they are: what the copy tests and the storage suite start from.
enum RegistryFixture {
    /// A registry with a row in every copied table, and the awkward values PostgreSQL refuses.
    static func populate(_ root: String) throws -> RegistryDatabase {
        for (name, words) in [("pdf-tools", "Extract text from PDF documents."), ("chart-maker", "Draw charts from CSV data."),
                              ("csv-cleaner", "Clean CSV files.")] {
            try write("---\nname: \(name)\ndescription: \(words)\n---\n\n# \(name)\n\nUse it well.\n", to: "main/\(name)/SKILL.md", in: root)
            try write("notes for \(name)\n", to: "main/\(name)/reference/notes.md", in: root)
        }
        // The same skill in a second source, shadowed by the first; and a copy that does not load.
        try write("---\nname: pdf-tools\ndescription: An older copy.\n---\n\nOld.\n", to: "extra/pdf-tools/SKILL.md", in: root)
        try write("---\nname: chart-maker\n---\n\nNo description, so it does not load.\n", to: "extra/chart-maker/SKILL.md", in: root)
        try write("extra file\n", to: "extra/pdf-tools/Zeta.md", in: root)
        try write("extra file\n", to: "extra/pdf-tools/alpha.md", in: root)
        try write(Data([0x89, 0x50, 0x00, 0xFF, 0x0A]), to: "extra/pdf-tools/logo.bin", in: root)
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
        _ = try sqlite.pinTool("time__convert", server: "time", digest: "cafe")
        try sqlite.storeBridgeCredential(server: "docs", agent: "ada", sealed: "v1:c2VhbGVk", at: Date())
        try sqlite.recordChangedDefinition("time__convert", digest: "beef")
        var stale = ApprovalRecord(id: "apr_copy2", tool: "write_file", arguments: #"{"path": "b.txt"}"#, argumentsDigest: "d2", agent: "bob", role: "writer",
                                   group: nil, session: "s2", spanId: "00bb", rule: "registry.yaml:3:5", ruleKey: "k", policyReason: "asked",
                                   revision: "abc", hostId: "h", createdAt: Date().addingTimeInterval(-60), expiresAt: Date().addingTimeInterval(600))
        stale.approvers = .any
        try sqlite.insertApproval(stale)
        // GRDB binds text up to its first NUL; SQLite itself stores one (another writer, the sqlite3 shell, may have).
        let shell = try run("/usr/bin/sqlite3", [root + "/db/registry.db", "UPDATE memories SET text = 'a NUL ' || char(0) || ' inside' WHERE type = 'core'"])
        #expect(shell.status == 0, "\(shell.stderr)")
        return sqlite
    }

}
