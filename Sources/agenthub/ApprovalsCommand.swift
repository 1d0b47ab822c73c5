import ArgumentParser
import Base
import Core
import Foundation
import Host
import Logging

/// `agenthub approvals`: the calls waiting for approval, their answers, and lasting grants.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, approve and deny calls waiting for approval; list and revoke lasting grants.",
        discussion: """
            A call whose policy decision is ask waits (policy.approval_timeout) while its request is pending. \
            The first answer wins, whoever gives it: this command, an admin key over HTTP, or the caller's own \
            MCP client (elicitation). A running host sees an answer from here at once.
            """,
        subcommands: [List.self, Show.self, Approve.self, Deny.self, Grants.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List approval requests (pending ones unless --all or --status).")

        @OptionGroup var global: GlobalOptions

        @Flag(name: .long, help: "Every request, answered or not.")
        var all = false

        @Option(name: .long, help: "Only requests with this status: pending, granted, denied, expired, withdrawn, or all.")
        var status: String?

        @Option(name: .long, help: "Only this agent's requests.")
        var agent: String?

        @Option(name: .long, help: "Requests per page (1 to 1000).")
        var limit = 200

        @Option(name: .long, help: "The next page: requests older than this id (the last id of the page before).")
        var before: String?

        func run() async throws {
            let desk = try await open(global)
            var wanted: ApprovalStatus? = all ? nil : .pending
            if let status {
                if status == "all" { wanted = nil } else {
                    guard let parsed = ApprovalStatus(rawValue: status) else {
                        Output.stderr("error: --status must be one of pending, granted, denied, expired, withdrawn, all; found '\(status)'")
                        throw ExitCode(64)
                    }
                    wanted = parsed
                }
            }
            guard (1...1000).contains(limit) else {
                Output.stderr("error: --limit must be from 1 to 1000, found \(limit)")
                throw ExitCode(64)
            }
            let records: [ApprovalRecord]
            do { records = try await desk.requests(status: wanted, agent: agent, before: before, limit: limit) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            await desk.flush()
            if global.json {
                print(JSONValue.array(records.map(\.json)).jsonText)
                return
            }
            if records.isEmpty {
                Output.stderr(wanted == .pending ? "no call is waiting for approval" : "no approval requests")
                return
            }
            if records.count == limit, let last = records.last {
                defer { Output.stderr("more: agenthub approvals list --before \(last.id)\(status.map { " --status \($0)" } ?? (all ? " --all" : ""))") }
            }
            Output.table(["ID", "STATUS", "TOOL", "AGENT", "CREATED", "EXPIRES", "RULE", "ARGUMENTS"], records.map {
                [$0.id, $0.status.rawValue, $0.tool, $0.agent, Output.date($0.createdAt), Output.date($0.expiresAt), $0.rule,
                 Output.clip($0.arguments, 60)]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one request: the tool, arguments, caller, rule, and its answer.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The request's id (apr_…), or a unique prefix of it.")
        var id: String

        func run() async throws {
            let desk = try await open(global)
            let record: ApprovalRecord
            do throws(CoreError) { record = try await desk.request(id, agent: nil) } catch {
                await desk.flush()
                Output.stderr("error: \(error.message)" + (error.code == .notFound ? " (agenthub approvals list --all lists them)" : ""))
                throw ExitCode(1)
            }
            await desk.flush()
            if global.json {
                print(record.json.jsonText)
                return
            }
            var lines = [
                "id:        \(record.id)", "status:    \(record.status.rawValue)", "tool:      \(record.tool)",
                "arguments: \(record.arguments)",
                "caller:    agent \(record.agent)" + (record.role.map { ", role \($0)" } ?? "") + (record.group.map { ", group \($0)" } ?? "")
                    + ", session \(record.session)",
                "rule:      \(record.rule) (\(record.policyReason))",
                "created:   \(Output.date(record.createdAt))", "expires:   \(Output.date(record.expiresAt))",
                "answers:   \(record.approvers.description); an operator may grant \(record.scopes(client: false).map(\.rawValue).joined(separator: ", "))",
            ]
            if record.status != .pending {
                lines.append("answered:  \(Output.date(record.decidedAt)) by \(record.decidedBy ?? "-") via \(record.decidedVia ?? "-")"
                             + (record.scope.map { ", for \($0.rawValue)" } ?? ""))
                if let reason = record.decisionReason { lines.append("reason:    \(reason)") }
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a waiting call: this call only, the rest of its session, or its agent for a while.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The request's id (apr_…), or a unique prefix of it.")
        var id: String

        @Option(name: .long, help: "call (default), session (only where the caller's session ends: an MCP session), or agent.")
        var scope: String?

        @Option(name: .customLong("for"), help: "How long a lasting grant lasts (8h, 7d); policy.grant_duration when not given. Implies --scope agent unless --scope session says otherwise.")
        var duration: String?

        @Option(name: .long, help: "Why (kept with the decision and in the trace).")
        var reason: String?

        func run() async throws {
            try await answer(global, id, ApprovalAnswerForm(granted: true, scope: scope, duration: duration, reason: reason))
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a waiting call: it ends with an error that says so.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The request's id (apr_…), or a unique prefix of it.")
        var id: String

        @Option(name: .long, help: "Why (the caller sees it).")
        var reason: String?

        func run() async throws {
            try await answer(global, id, ApprovalAnswerForm(granted: false, reason: reason))
        }
    }

    struct Grants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List lasting grants (active ones unless --all).")

        @OptionGroup var global: GlobalOptions

        @Flag(name: .long, help: "Revoked and expired grants too.")
        var all = false

        @Option(name: .long, help: "Only this agent's grants.")
        var agent: String?

        func run() async throws {
            let desk = try await open(global), grants: [ApprovalGrantRecord]
            do { grants = try await desk.book.grants(agent: agent, includingEnded: all) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            if global.json {
                print(JSONValue.array(grants.map { $0.json() }).jsonText)
                return
            }
            if grants.isEmpty {
                Output.stderr(all ? "no grants" : "no active grants")
                return
            }
            Output.table(["ID", "STATUS", "TOOL", "AGENT", "SCOPE", "EXPIRES", "BY", "RULE"], grants.map {
                [$0.id, $0.status(), $0.tool, $0.agent, $0.scope == .session ? "session \($0.session ?? "-")" : "agent",
                 $0.scope == .agent ? Output.date($0.expiresAt) : "with the session", $0.grantedBy, $0.rule]
            })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a grant: the next call it covered is asked again.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The grant's id (grt_…).")
        var id: String

        @Option(name: .long, help: "Why.")
        var reason: String?

        func run() async throws {
            let desk = try await open(global)
            do throws(CoreError) {
                let grant = try await desk.revokeGrant(id, by: ApprovalsCommand.operatorName, reason: reason)
                Output.stderr("revoked \(grant.id) (\(grant.tool) for agent \(grant.agent)); its next call is asked again")
            } catch {
                Output.stderr("error: \(error.message)" + (error.code == .notFound ? " (agenthub approvals grants --all lists them)" : ""))
                throw ExitCode(1)
            }
        }
    }

    /// Who answers from this terminal: `cli:USER`.
    static var operatorName: String {
        "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "uid\(getuid())")
    }

    /// The approval desk of this command, on the manifest's registry.
    static func open(_ global: GlobalOptions) async throws -> ApprovalDesk {
        try await global.context().approvalDesk()
    }

    /// Answers one request; exits 1 when someone answered first (and says who).
    static func answer(_ global: GlobalOptions, _ id: String, _ form: ApprovalAnswerForm) async throws {
        let context = try await global.context()
        let desk = context.approvalDesk()
        let answer: ApprovalAnswer
        do { answer = try form.answer(by: operatorName, via: "cli", manifest: context.manifest) } catch {
            Output.stderr("error: \(error.message)")
            throw ExitCode(64)
        }
        let result = await desk.decide(id, answer)
        await desk.flush()
        switch result {
        case .success(.decided(let record, let grant)):
            if global.json {
                var out = record.json.objectValue ?? [:]
                out["grant"] = grant.map { $0.json() } ?? .null
                print(JSONValue.object(out).jsonText)
            }
            let what = form.granted ? "approved" : "denied"
            let lasting = grant.map { g in g.scope == .session ? "; granted for session \(g.session ?? "-") while it lasts, until \(Output.date(g.expiresAt)) at most (\(g.id))"
                                                               : "; granted to agent \(g.agent) until \(Output.date(g.expiresAt)) (\(g.id))" } ?? ""
            Output.stderr("\(what) \(record.id): \(record.tool) for agent \(record.agent)\(lasting)")
        case .success(.alreadyResolved(let record)):
            Output.stderr("error: \(record.id) is already \(record.status.rawValue)"
                          + (record.decidedBy.map { " (by \($0) via \(record.decidedVia ?? "-") at \(Output.date(record.decidedAt)))" } ?? "")
                          + "; nothing changed")
            throw ExitCode(1)
        case .success(.refused(_, let reason)):
            Output.stderr("error: \(reason); nothing changed")
            throw ExitCode(1)
        case .success(.notFound):
            Output.stderr("error: no approval request '\(id)' (agenthub approvals list --all lists them)")
            throw ExitCode(1)
        case .failure(let error):
            Output.fail(error)
            throw ExitCode(1)
        }
    }
}
