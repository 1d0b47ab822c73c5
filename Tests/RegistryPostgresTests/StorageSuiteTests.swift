import Base
import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The core's stores asked the same questions on both backends: one populated SQLite registry,
/// copied into PostgreSQL, and every read and write of `CoreStores` answered alike (the same rows
/// in the same order, the same refusals), so the services above them cannot tell which they run on.
@Suite(.serialized) struct StorageSuiteTests {
    static let logger = Logger(label: "test")
    typealias Stores = SkillStore & SourceStore & ApprovalLedger & EventStore & PresenceStore & SessionStore & TaskStore


    /// A record as JSON with sorted keys, JSON held in strings parsed (jsonb reformats it) and
    /// times to the millisecond (what SQLite keeps).
    func shape<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode((date.timeIntervalSince1970 * 1000).rounded())
        }
        func normalized(_ any: Any) -> Any {
            if let text = any as? String, text.hasPrefix("{") || text.hasPrefix("["),
               let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) { return normalized(parsed) }
            if let object = any as? [String: Any] { return object.mapValues(normalized) }
            if let array = any as? [Any] { return array.map(normalized) }
            return any
        }
        let object = normalized(try JSONSerialization.jsonObject(with: encoder.encode(value), options: [.fragmentsAllowed]))
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// Asks both, checks `check` on each answer, and that the answers are the same.
    func ask<T: Encodable>(_ what: String, _ stores: [(String, any Stores)], _ question: (any Stores) async throws -> T,
                           check: (T) -> Bool = { _ in true }, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        var answers: [(String, String)] = []
        for (name, store) in stores {
            let answer = try await question(store)
            #expect(check(answer), "\(what) on \(name): \(answer)", sourceLocation: sourceLocation)
            answers.append((name, try shape(answer)))
        }
        #expect(answers[0].1 == answers[1].1, "\(what): \(answers[0].0) answered \(answers[0].1)\n\(answers[1].0) answered \(answers[1].1)",
                sourceLocation: sourceLocation)
    }

    @Test func bothBackendsAnswerEveryStoreQuestionAlike() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        try await withTemporaryDirectory { root in
            let sqlite = try RegistryFixture.populate(root)
            guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { return }
            let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
            defer { postgres.close() }
            let report = try await postgres.copy(from: try sqlite.snapshot(), replace: false)
            #expect(report.matches)
            let stores: [(String, any Stores)] = [("SQLite", sqlite), ("PostgreSQL", postgres)]

            // Skills: listing, searching, the filters, shadowed and unloadable copies, files.
            try await ask("listing", stores, { try await $0.skills(SkillQuery(limit: 50)).map(\.skill) }, check: { $0.count == 3 })
            var everything = SkillQuery(limit: 50)
            everything.includeShadowed = true
            everything.includeUnloadable = true
            everything.withoutBody = true
            try await ask("listing everything without bodies", stores, { try await $0.skills(everything).map(\.skill) },
                          check: { $0.count == 5 && $0.allSatisfy { $0.body.isEmpty } })
            try await ask("searching", stores, { try await $0.skills(SkillQuery(text: "pdf documents")).map(\.skill.name) }, check: { $0 == ["pdf-tools"] })
            try await ask("one source", stores, { try await $0.skills(SkillQuery(source: "extra")).map(\.skill.name) }, check: { $0.isEmpty })
            try await ask("a page", stores, { try await $0.skills(SkillQuery(limit: 1, offset: 1)).map(\.skill.name) }, check: { $0 == ["csv-cleaner"] })
            try await ask("copies of a name", stores, { try await $0.skills(named: "pdf-tools").map(\.source) }, check: { $0 == ["main", "extra"] })
            try await ask("live copies", stores, { try await $0.liveSkills(named: "chart-maker").map { "\($0.source):\($0.loadable)" } },
                          check: { $0 == ["main:true", "extra:false"] })
            let pdf = try #require(try await sqlite.skills(named: "pdf-tools").last)
            try await ask("a skill by id", stores, { try await $0.skill(id: pdf.id) }, check: { $0?.source == "extra" })
            try await ask("an unknown id", stores, { try await $0.skill(id: 999_999) }, check: { $0 == nil })
            try await ask("files in byte order", stores, { try await $0.files(ofSkill: pdf.id).map(\.path) },
                          check: { $0 == ["SKILL.md", "Zeta.md", "alpha.md", "logo.bin"] })
            try await ask("a binary file's exact bytes and digest", stores, { try await $0.file(ofSkill: pdf.id, path: "logo.bin") },
                          check: { $0?.bytes == Data([0x89, 0x50, 0x00, 0xFF, 0x0A]) && $0?.digest?.hasPrefix("sha256:") == true && $0?.isBinary == true })
            try await ask("a text file's bytes", stores, { try await $0.file(ofSkill: pdf.id, path: "alpha.md") },
                          check: { $0?.bytes == Data("extra file\n".utf8) && $0?.data == nil && $0?.digest != nil })
            try await ask("a file a skill lacks", stores, { try await $0.file(ofSkill: pdf.id, path: "nope.md") }, check: { $0 == nil })
            try await ask("digests in listings", stores, { try await $0.fileListings(ofSkills: [pdf.id])[pdf.id]?.map { "\($0.path) \($0.digest ?? "-")" } },
                          check: { $0?.count == 4 && $0?.allSatisfy { !$0.hasSuffix(" -") } == true })
            try await ask("frontmatter as written", stores, { try await $0.skill(id: pdf.id)?.frontmatter.flatMap { JSONValue.parse($0) } },
                          check: { $0?["description"] == .string("An older copy.") })
            try await ask("file listings", stores, { try await $0.fileListings(ofSkills: [pdf.id, pdf.id + 1_000]).mapValues { $0.map(\.path) } },
                          check: { $0.count == 1 })

            // Sources with their counts.
            try await ask("sources", stores, { try await $0.sources() }, check: { $0.map(\.name) == ["main", "extra"] })
            try await ask("one source", stores, { try await $0.source(named: "extra") }, check: { $0?.shadowedCount == 1 && $0?.loadableCount == 1 })
            try await ask("an unknown source", stores, { try await $0.source(named: "nowhere") }, check: { $0 == nil })

            // Approvals: listing, paging, prefixes, grants.
            try await ask("requests", stores, { try await $0.approvalRequests(status: nil, agent: nil, before: nil, limit: 10).map(\.id) },
                          check: { $0 == ["apr_copy1", "apr_copy2"] })
            try await ask("the next page", stores, { try await $0.approvalRequests(status: nil, agent: nil, before: "apr_copy1", limit: 10).map(\.id) },
                          check: { $0 == ["apr_copy2"] })
            try await ask("pending of one agent", stores, { try await $0.approvalRequests(status: .pending, agent: "bob", before: nil, limit: 10) },
                          check: { $0.count == 1 })
            try await ask("a request by prefix", stores, { try await $0.approvalRequest(matching: "apr_copy2")?.id }, check: { $0 == "apr_copy2" })
            try await ask("an ambiguous prefix", stores, { try await $0.approvalRequest(matching: "apr_copy") }, check: { $0 == nil })
            try await ask("a prefix too short", stores, { try await $0.approvalRequest(matching: "apr_c") }, check: { $0 == nil })
            try await ask("an exact id however short", stores, { try await $0.approvalRequest(matching: "apr_copy1")?.id }, check: { $0 == "apr_copy1" })
            try await ask("grants", stores, { try await $0.approvalGrants(agent: nil, includingEnded: false) }, check: { $0.count == 1 })
            try await ask("revoking", stores, { try await $0.revokeGrant("grant-copy", by: "cli:ops", reason: "left")?.revokedBy }, check: { $0 == "cli:ops" })
            try await ask("revoking again keeps the first", stores, { try await $0.revokeGrant("grant-copy", by: "cli:other", reason: nil)?.revokedBy },
                          check: { $0 == "cli:ops" })
            try await ask("active grants after", stores, { try await $0.approvalGrants(agent: "ada", includingEnded: false) }, check: { $0.isEmpty })
            try await ask("all grants after", stores, { try await $0.approvalGrants(agent: "ada", includingEnded: true).count }, check: { $0 == 1 })

            // The approval desk's writes: open, adopt, use, close, expire, grants by session and by rule.
            let now = Date()
            @Sendable func draft(_ id: String, agent: String = "cy", deferred: Bool = false, expiresIn: TimeInterval = 600) -> ApprovalRecord {
                var record = ApprovalRecord(id: id, tool: "write_file", arguments: #"{"path":"c.txt"}"#, argumentsDigest: "dc", agent: agent, role: "writer",
                                            group: nil, session: "s7", spanId: "00cc", rule: "registry.yaml:9:5", ruleKey: "k9", policyReason: "asked",
                                            revision: "abc", hostId: "gone-host", createdAt: now, expiresAt: now.addingTimeInterval(expiresIn))
                record.deferred = deferred
                record.sessionEnds = true   // a session that ends may hold a session grant
                return record
            }
            for (_, store) in stores {
                try await onOwnThread { try store.insertApproval(draft("apr_ledger1"), maxPending: 5) }
                try await onOwnThread { try store.insertApproval(draft("apr_ledger2", deferred: true), maxPending: nil) }
                try await onOwnThread { try store.insertApproval(draft("apr_ledger3", expiresIn: -5), maxPending: nil) }
            }
            try await ask("adoptable after its host is gone", stores, { s in try await onOwnThread {
                try s.adoptableApproval(agent: "cy", tool: "write_file", argumentsDigest: "dc", now: now, isLive: { $0 != "gone-host" })?.id } },
                check: { $0 == "apr_ledger1" })
            try await ask("adopting", stores, { s in try await onOwnThread { try s.adoptApproval("apr_ledger1", hostId: "new-host", session: "s8", spanId: "00dd") } },
                          check: { $0 })
            try await ask("nothing adoptable from a live host", stores, { s in try await onOwnThread {
                try s.adoptableApproval(agent: "cy", tool: "write_file", argumentsDigest: "dc", now: now, isLive: { $0 == "new-host" })?.id } },
                check: { $0 == "apr_ledger2" })
            try await ask("the open deferred request", stores, { s in try await onOwnThread {
                try s.openDeferredApproval(agent: "cy", tool: "write_file", argumentsDigest: "dc", ruleKey: "k9", now: now, grantedSince: now.addingTimeInterval(-60))?.id } },
                check: { $0 == "apr_ledger2" })
            try await ask("answering for the session", stores, { s in try await DecidedPair(try onOwnThread {
                try s.decideApproval("apr_ledger1", ApprovalAnswer(granted: true, by: "cli:ops", via: "cli", scope: .session,
                                                                   grantExpiresAt: now.addingTimeInterval(3600)), grantId: "grant-s8", now: now) }) },
                check: { $0.record?.status == .granted && $0.grant?.session == "s8" })
            try await ask("the session's grant", stores, { s in try await onOwnThread {
                try s.activeGrant(tool: "write_file", agent: "cy", session: "s8", ruleKey: "k9", now: now)?.id } }, check: { $0 == "grant-s8" })
            try await ask("no grant in another session", stores, { s in try await onOwnThread {
                try s.activeGrant(tool: "write_file", agent: "cy", session: "s9", ruleKey: "k9", now: now)?.id } }, check: { $0 == nil })
            try await ask("using the approval", stores, { s in try await onOwnThread { try s.consumeApproval("apr_ledger1", now: now) } }, check: { $0 })
            try await ask("using it twice", stores, { s in try await onOwnThread { try s.consumeApproval("apr_ledger1", now: now) } }, check: { !$0 })
            try await ask("closing a pending request", stores, { s in try await onOwnThread {
                try s.closeApproval("apr_ledger2", .withdrawn, reason: "the caller left", now: now) } }, check: { $0 })
            try await ask("closing it again", stores, { s in try await onOwnThread {
                try s.closeApproval("apr_ledger2", .withdrawn, reason: "again", now: now) } }, check: { !$0 })
            try await ask("expiring what is due", stores, { s in try await onOwnThread { try s.expireApprovals(now: now).map(\.id) } },
                          check: { $0 == ["apr_ledger3"] })
            try await ask("the session ends", stores, { s in try await onOwnThread { try s.revokeSessionGrants("s8", reason: "session ended", now: now) } },
                          check: { $0 == 1 })
            try await ask("a rule the manifest dropped", stores, { s in try await onOwnThread {
                try s.revokeStaleGrants(by: "host", reason: "reloaded", now: now) { grant, _, _ in grant.ruleKey != "k" }.map(\.id) } },
                check: { $0.isEmpty })   // grant-copy was revoked above, grant-s8 by its session: none active is left
            try await ask("the requests as they ended", stores, { s in try await onOwnThread {
                try ["apr_ledger1", "apr_ledger2", "apr_ledger3"].map { try s.approval($0).map { "\($0.status.rawValue):\($0.usedAt != nil)" } ?? "-" } } },
                check: { $0 == ["granted:true", "withdrawn:false", "expired:false"] })

            // Events: reading by session, agent, type and page; reports and their refusals.
            var bySession = TraceQuery(session: "s3", limit: 5)
            try await ask("a session's events", stores, { try await $0.events(bySession) }, check: { $0.count == 5 })
            bySession.newestFirst = true
            try await ask("newest first", stores, { try await $0.events(bySession).map(\.id) }, check: { $0 == $0.sorted(by: >) })
            try await ask("of a type after a cursor", stores, { try await $0.events(TraceQuery(afterId: 1_190, types: ["tool.call"], limit: 50)).count },
                          check: { $0 == 10 })
            var reported = TraceEvent(at: "2026-12-07T07:00:00Z", type: "model.switch", session: "s9", spanId: "abababababababab", agent: "eve",
                                      role: nil, group: nil, tool: "", detail: .object(["model": .string("m-2")]))
            reported.state = "thinking"
            try await ask("a report", stores, { try await $0.appendReported([reported], reportedTypes: ["model.switch"]).count }, check: { $0 == 1 })
            try await ask("what agents reported", stores, { try await $0.agentReports().map { "\($0.agent):\($0.state ?? "-"):\($0.model ?? "-")" } },
                          check: { $0 == ["ada:working:-", "eve:thinking:m-2"] })
            try await ask("when an agent was last seen", stores, { try await $0.newestEventTime(ofAgent: "eve") }, check: { $0 == "2026-12-07T07:00:00Z" })
            var hijack = reported
            hijack.spanId = String(format: "%016x", 3)   // a span the router recorded for ada
            hijack.agent = "ada"
            for (name, store) in stores {
                let refused = await #expect(throws: RegistryError.self, "\(name)") { try await store.appendReported([hijack], reportedTypes: ["model.switch"]) }
                #expect(refused?.code == .conflict && refused?.message.contains("a call the router recorded") == true, "\(name): \(refused?.message ?? "")")
            }

            // Pins.
            try await ask("pins of a server", stores, { try await $0.pinsExist(named: "time") }, check: { $0 })
            try await ask("no pins", stores, { try await $0.pinsExist(named: "git") }, check: { !$0 })
            try await ask("accepting a changed definition", stores, { try await $0.acceptChangedDefinitions(["time"]) }, check: { $0 == ["time__convert"] })
            try await ask("nothing left to accept", stores, { try await $0.acceptChangedDefinitions(["time"]) }, check: { $0.isEmpty })

            // MCP sessions over HTTP: recorded, found, used (never back in time), forgotten when idle, ended.
            let opened = Date(timeIntervalSince1970: 1_800_000_000)
            let session = MCPSessionRecord(id: "sess-1", agent: "ada", traceSession: "mcp-1f", protocolVersion: "2025-11-25",
                                           capabilities: #"{"elicitation":{"form":{}}}"#, createdAt: opened, seenAt: opened)
            try await ask("a session recorded", stores, { try await $0.saveSession(session); return try await $0.session(id: "sess-1") },
                          check: { $0 == session })
            try await ask("an unknown session", stores, { try await $0.session(id: "sess-0") }, check: { $0 == nil })
            try await ask("a session used", stores, { s in
                try await s.touchSession(id: "sess-1", at: opened.addingTimeInterval(60))
                try await s.touchSession(id: "sess-1", at: opened.addingTimeInterval(30))
                return try await s.session(id: "sess-1")?.seenAt
            }, check: { $0 == opened.addingTimeInterval(60) })
            var idle = session
            idle.id = "sess-2"
            idle.seenAt = opened.addingTimeInterval(-3600)
            try await ask("idle sessions forgotten", stores, { s in try await s.saveSession(idle); return try await s.forgetSessions(seenBefore: opened) },
                          check: { $0 == 1 })
            try await ask("a session ended", stores, { s in try await s.endSession(id: "sess-1"); return try await s.session(id: "sess-1") },
                          check: { $0 == nil })

            // Console sign-ins: by the hash of their token; ended by token or by key; forgotten when idle.
            let signIn = ConsoleSessionRecord(tokenHash: Data([0xAA, 0x01]), agent: "ada", keyHash: Data([0xBB, 0x00, 0x02]), csrf: "csrf-1",
                                              createdAt: opened, seenAt: opened)
            var other = signIn
            other.tokenHash = Data([0xAA, 0x02])
            try await ask("a sign-in recorded", stores, { s in
                try await s.saveConsoleSession(signIn)
                try await s.saveConsoleSession(other)
                return try await s.consoleSession(tokenHash: Data([0xAA, 0x01]))
            }, check: { $0 == signIn })
            try await ask("a sign-in used", stores, { s in
                try await s.touchConsoleSession(tokenHash: Data([0xAA, 0x01]), at: opened.addingTimeInterval(90))
                return try await s.consoleSession(tokenHash: Data([0xAA, 0x01]))?.seenAt
            }, check: { $0 == opened.addingTimeInterval(90) })
            try await ask("sign-ins of a refused key ended", stores, { s -> [Bool] in
                try await s.endConsoleSessions(tokenHash: nil, keyHash: Data([0xBB, 0x00, 0x02]))
                return [try await s.consoleSession(tokenHash: Data([0xAA, 0x01])) == nil, try await s.consoleSession(tokenHash: Data([0xAA, 0x02])) == nil]
            }, check: { $0 == [true, true] })
            try await ask("idle sign-ins forgotten", stores, { s in
                try await s.saveConsoleSession(signIn)
                return try await s.forgetConsoleSessions(seenBefore: opened.addingTimeInterval(1))
            }, check: { $0 == 1 })

            // Tasks: stored, read, listed by agent and status, changed until they end (a terminal
            // status never moves), cancellations asked and seen, a stopped host's tasks failed,
            // the agent's limit, and the expired forgotten.
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            func task(_ id: String, agent: String, host: String, at offset: Double) -> TaskRecord {
                TaskRecord(id: id, tool: "t__sleep", arguments: #"{"seconds":1}"#, argumentsComplete: true, agent: agent, role: "worker", group: nil,
                           session: "s", hostId: host, createdAt: t0.addingTimeInterval(offset), updatedAt: t0.addingTimeInterval(offset),
                           expiresAt: t0.addingTimeInterval(offset + 3600))
            }
            for (name, store) in stores {
                try await store.insertTask(task("tsk_a_\(name.count)", agent: "ada", host: "live", at: 0), maxActive: 2)
                try await store.insertTask(task("tsk_b_\(name.count)", agent: "ada", host: "dead", at: 1), maxActive: 2)
                try await store.insertTask(task("tsk_c_\(name.count)", agent: "bob", host: "live", at: 2), maxActive: 2)
                do {
                    try await store.insertTask(task("tsk_d_\(name.count)", agent: "ada", host: "live", at: 3), maxActive: 2)
                    Issue.record("\(name): a third running task of ada passed max_tasks_per_agent 2")
                } catch let error as RegistryError { #expect(error.code == .limit, "\(name): \(error.message)") }
            }
            func ids(_ records: [TaskRecord]) -> [String] { records.map { String($0.id.prefix(6)) } }
            try await ask("tasks of an agent, newest first", stores, { ids(try await $0.tasks(agent: "ada", status: nil, limit: 10)) },
                          check: { $0 == ["tsk_b_", "tsk_a_"] })
            try await ask("a task completed", stores, { s in
                let id = try await s.tasks(agent: "ada", status: nil, limit: 10).last!.id
                let changed = try await s.changeTask(id: id, TaskChange(status: .completed, result: #"{"content":[],"isError":false}"#), now: t0.addingTimeInterval(5))
                let again = try await s.changeTask(id: id, TaskChange(status: .working), now: t0.addingTimeInterval(6))
                return [changed, again]
            }, check: { $0 == [true, false] })
            try await ask("a cancellation asked and seen", stores, { s in
                let id = try await s.tasks(agent: "bob", status: nil, limit: 10)[0].id
                let asked = try await s.requestTaskCancel(id: id, now: t0.addingTimeInterval(7))
                return [asked?.cancelRequested == true, try await s.cancelRequestedTasks([id, "tsk_none"]) == [id]]
            }, check: { $0 == [true, true] })
            try await ask("a stopped host's tasks failed", stores, { s in
                try await s.failTasks(ofStoppedHosts: ["dead", "never-was"], message: "the host stopped while the task ran", error: #"{"code":-32603}"#, now: t0.addingTimeInterval(8))
            }, check: { $0 == 1 })
            try await ask("statuses after", stores, { s in try await s.tasks(agent: nil, status: nil, limit: 10).map { "\($0.id.prefix(6)) \($0.status.rawValue)" } },
                          check: { $0 == ["tsk_c_ working", "tsk_b_ failed", "tsk_a_ completed"] })
            try await ask("expired tasks forgotten", stores, { s in try await s.forgetExpiredTasks(now: t0.addingTimeInterval(3602)) }, check: { $0 == 2 })
        }
    }
}

/// A decision as a comparable record: what was decided and the grant it left.
struct DecidedPair: Encodable {
    var record: ApprovalRecord?
    var grant: ApprovalGrantRecord?
    init(_ decision: ApprovalDecision) {
        if case .decided(let record, let grant) = decision { self.record = record; self.grant = grant }
    }
}
