import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// A call waiting on one host, answered on another: the first answer wins, the waiting host hears
/// of it through the change feed, and the same rules decide who may answer.
@Suite(.serialized) struct PostgresApprovalTests {
    static let logger = Logger(label: "test")

    func open(_ server: PrivatePostgres.Database) async throws -> PostgresRegistry {
        guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { throw PrivatePostgres.Problem("not a postgres URL") }
        return try await PostgresRegistry.open(location, logger: Self.logger)
    }

    func request(_ id: String, agent: String = "ada", approvers: ApprovalApprovers = .operator, expiresIn: TimeInterval = 600) -> ApprovalRecord {
        var record = ApprovalRecord(id: id, tool: "write_file", arguments: #"{"path":"notes.txt"}"#, argumentsDigest: "d1", agent: agent, role: "writer",
                                    group: nil, session: "s1", spanId: "0011223344556677", rule: "registry.yaml:12:7", ruleKey: "k1",
                                    policyReason: "asked by policy.rules", revision: "abc", hostId: "host-a", createdAt: Date(),
                                    expiresAt: Date().addingTimeInterval(expiresIn))
        record.approvers = approvers
        return record
    }

    @Test func anAnswerOnHostBReachesTheCallWaitingOnHostAAndTheFirstAnswerWins() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        let a = try await open(server), b = try await open(server), c = try await open(server)
        defer { a.close(); b.close(); c.close() }
        try await a.insertApproval(request("apr_0001"))
        let mark = a.changes.mark(.approvals)

        // Two operators answer at once on two other hosts.
        async let grant = b.decideApproval("apr_0001", ApprovalAnswer(granted: true, by: "cli:bob", via: "cli"), grantId: "g1")
        async let deny = c.decideApproval("apr_00", ApprovalAnswer(granted: false, by: "cli:carol", via: "cli", reason: "no"), grantId: "g2")
        let answers = try await [grant, deny]
        let decided = answers.filter { if case .decided = $0 { return true } else { return false } }
        let late = answers.filter { if case .alreadyResolved = $0 { return true } else { return false } }
        #expect(decided.count == 1 && late.count == 1, "\(answers)")

        // Host A, waiting on its mark, sees the answer.
        let start = ContinuousClock.now
        while a.changes.mark(.approvals) == mark, ContinuousClock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(2)) }
        let heard = ContinuousClock.now - start
        print("host A heard host B's answer after \(heard)")
        #expect(a.changes.mark(.approvals) != mark)
        let record = try #require(try await a.approval("apr_0001"))
        #expect(record.status == .granted || record.status == .denied)
        #expect(record.decidedBy == "cli:bob" || record.decidedBy == "cli:carol")
    }

    @Test func theSameRulesDecideWhoMayAnswerAndPendingRequestsAreCapped() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        let a = try await open(server)
        defer { a.close() }
        try await a.insertApproval(request("apr_ops", approvers: .operator))
        let fromClient = try await a.decideApproval("apr_ops", ApprovalAnswer(granted: true, by: "elicitation:ada", via: ApprovalAnswer.clientVia), grantId: "g")
        guard case .refused(_, let reason) = fromClient else { Issue.record("a client answered an operator-only request: \(fromClient)"); return }
        #expect(reason.contains("answered by"))
        // A lasting grant is stored with the answer.
        let lasting = try await a.decideApproval("apr_ops", ApprovalAnswer(granted: true, by: "cli:bob", via: "cli", scope: .agent,
                                                                             grantExpiresAt: Date().addingTimeInterval(3600)), grantId: "grant-1")
        guard case .decided(let record, let grant) = lasting else { Issue.record("\(lasting)"); return }
        #expect(record.status == .granted && record.scope == .agent && grant?.id == "grant-1")
        #expect(try server.psql("SELECT agent || ':' || scope FROM approval_grants") == "ada:agent")
        // An expired request is closed by the first answer that comes too late.
        try await a.insertApproval(request("apr_old", expiresIn: -1))
        let tooLate = try await a.decideApproval("apr_old", ApprovalAnswer(granted: true, by: "cli:bob", via: "cli"), grantId: "g")
        guard case .alreadyResolved(let expired) = tooLate else { Issue.record("\(tooLate)"); return }
        #expect(expired.status == .expired)
        // One agent cannot flood the queue, whichever host its calls arrive on.
        try await a.insertApproval(request("apr_p1", agent: "eve"), maxPending: 2)
        try await a.insertApproval(request("apr_p2", agent: "eve"), maxPending: 2)
        let flood = await #expect(throws: RegistryError.self) { try await a.insertApproval(request("apr_p3", agent: "eve"), maxPending: 2) }
        #expect(flood?.code == .limit)
        #expect(try await a.approval("apr_p") == nil, "an ambiguous prefix names no request")
        #expect(try await a.approval("apr_no") == nil)
    }
}
