import Base
import Foundation
import GRDB

/// How long an approval lasts: this call only, the rest of the caller's session, or the agent for a while.
public enum ApprovalScope: String, Sendable, Codable, CaseIterable, Comparable {
    case call, session, agent

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// Who may answer a request: the caller's own client (MCP elicitation), operators (the CLI, an
/// admin key, the console), or either. The rule that asked decides (`approvers:` in the manifest).
public enum ApprovalApprovers: String, Sendable, Codable, CaseIterable {
    case any, `operator`, client

    /// Whether an answer from the caller's own client (`client`) or from an operator may decide a
    /// request under this setting.
    public func admits(client: Bool) -> Bool {
        switch self {
        case .any: return true
        case .operator: return !client
        case .client: return client
        }
    }

    public var description: String {
        switch self {
        case .any: return "the caller's client or an operator"
        case .operator: return "an operator (agenthub approvals, an admin key, the console)"
        case .client: return "the caller's own client"
        }
    }
}

/// Where an approval request is in its life. Only `pending` moves, and only once.
public enum ApprovalStatus: String, Sendable, Codable {
    case pending, granted, denied, expired, withdrawn
}

/// An approval request: a call whose policy decision was `ask`, as the registry keeps it. The
/// arguments are stored redacted; the caller, the rule that asked, and (once decided) who answered,
/// how, and for how long.
public struct ApprovalRecord: Codable, Sendable, Equatable, FetchableRecord {
    /// Whether `text` may name a request by the start of its id: six characters at least, so a
    /// guess cannot pick one out of many, and nothing a LIKE pattern would read as a wildcard.
    public static func mayBePrefix(_ text: String) -> Bool {
        text.count >= 6 && !text.contains("%") && (!text.contains("_") || text.hasPrefix("apr_"))
    }

    public var id: String
    public var tool: String
    /// The call's arguments, redacted and capped as traces store them (JSON text).
    public var arguments: String
    /// SHA-256 of the arguments as sent (sorted-key JSON): the same call again finds its request.
    public var argumentsDigest: String
    public var agent: String
    public var role: String?
    public var group: String?
    public var session: String
    public var spanId: String
    /// `registry.yaml:LINE:COL` of the rule that asked (or `policy.default`).
    public var rule: String
    /// What grants are tied to: the rule's level, decision and pattern (a reload that changes them ends the grants).
    public var ruleKey: String
    public var policyReason: String
    public var revision: String?
    /// The host whose call waits on it.
    public var hostId: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var status: ApprovalStatus
    public var scope: ApprovalScope?
    public var decidedAt: Date?
    public var decidedBy: String?
    /// `elicitation`, `cli`, `http`, `grant`, or `host` (expiry, withdrawal).
    public var decidedVia: String?
    public var decisionReason: String?
    /// When the call it granted ran (a grant for one call lets it run once).
    public var usedAt: Date?
    /// Who may answer it (the rule that asked says).
    public var approvers: ApprovalApprovers = .operator
    /// The longest a client's answer may grant; an operator may grant any scope the request allows.
    public var clientScope: ApprovalScope = .call
    /// Whether the caller's session is one that ends (an MCP session): only then is `session` a scope.
    public var sessionEnds = false
    /// Asked by a call that did not wait (MCP 2026-07-28 `input_required`): only a retry with its
    /// `requestState` resumes it. A request whose call waits is never run by a retry.
    public var deferred = false

    /// The scopes an answer from the caller's own client (`client`) or from an operator may grant here.
    public func scopes(client: Bool) -> [ApprovalScope] {
        ApprovalScope.allCases.filter { scope in
            if scope == .session, !sessionEnds { return false }
            return !client || scope <= clientScope
        }
    }

    public init(id: String, tool: String, arguments: String, argumentsDigest: String, agent: String, role: String?, group: String?,
                session: String, spanId: String, rule: String, ruleKey: String, policyReason: String, revision: String?,
                hostId: String?, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.tool = tool
        self.arguments = arguments
        self.argumentsDigest = argumentsDigest
        self.agent = agent
        self.role = role
        self.group = group
        self.session = session
        self.spanId = spanId
        self.rule = rule
        self.ruleKey = ruleKey
        self.policyReason = policyReason
        self.revision = revision
        self.hostId = hostId
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.status = .pending
    }

    public init(row: Row) throws {
        id = row["id"]
        tool = row["tool"]
        arguments = row["arguments"]
        argumentsDigest = row["arguments_digest"]
        agent = row["agent"]
        role = row["role"]
        group = row["grp"]
        session = row["session"]
        spanId = row["span_id"]
        rule = row["rule"]
        ruleKey = row["rule_key"]
        policyReason = row["policy_reason"]
        revision = row["revision"]
        hostId = row["host_id"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        status = ApprovalStatus(rawValue: row["status"]) ?? .pending
        scope = (row["scope"] as String?).flatMap(ApprovalScope.init(rawValue:))
        decidedAt = row["decided_at"]
        decidedBy = row["decided_by"]
        decidedVia = row["decided_via"]
        decisionReason = row["decision_reason"]
        usedAt = row["used_at"]
        approvers = (row["approvers"] as String?).flatMap(ApprovalApprovers.init(rawValue:)) ?? .operator
        clientScope = (row["client_scope"] as String?).flatMap(ApprovalScope.init(rawValue:)) ?? .call
        sessionEnds = row["session_ends"] ?? false
        deferred = row["deferred"] ?? false
    }

    /// The request as the API, the CLI's `--json` and the console show it.
    public var json: JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func time(_ d: Date?) -> JSONValue { d.map { .string(TraceEvent.timestamp($0)) } ?? .null }
        return [
            "id": .string(id), "tool": .string(tool), "arguments": JSONValue.parse(arguments) ?? .string(arguments),
            "agent": .string(agent), "role": text(role), "group": text(group), "session": .string(session), "span_id": .string(spanId),
            "rule": .string(rule), "policy_reason": .string(policyReason), "revision": text(revision),
            "created_at": time(createdAt), "expires_at": time(expiresAt), "status": .string(status.rawValue),
            "scope": text(scope?.rawValue), "decided_at": time(decidedAt), "decided_by": text(decidedBy),
            "decided_via": text(decidedVia), "reason": text(decisionReason),
            "approvers": .string(approvers.rawValue), "client_scope": .string(clientScope.rawValue),
            "scopes": .array(scopes(client: false).map { .string($0.rawValue) }), "used_at": time(usedAt),
        ]
    }
}

/// A lasting grant: an approval for the rest of a session, or for an agent until it expires.
public struct ApprovalGrantRecord: Codable, Sendable, Equatable, FetchableRecord {
    public var id: String
    public var approvalId: String
    public var tool: String
    public var agent: String
    /// The session it holds for (`session` scope); nil for an agent grant.
    public var session: String?
    public var scope: ApprovalScope
    public var rule: String
    public var ruleKey: String
    public var grantedBy: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var revokedBy: String?
    public var revokeReason: String?

    public init(id: String, approvalId: String, tool: String, agent: String, session: String?, scope: ApprovalScope, rule: String,
                ruleKey: String, grantedBy: String, createdAt: Date, expiresAt: Date?) {
        self.id = id
        self.approvalId = approvalId
        self.tool = tool
        self.agent = agent
        self.session = session
        self.scope = scope
        self.rule = rule
        self.ruleKey = ruleKey
        self.grantedBy = grantedBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public init(row: Row) throws {
        id = row["id"]
        approvalId = row["approval_id"]
        tool = row["tool"]
        agent = row["agent"]
        session = row["session"]
        scope = ApprovalScope(rawValue: row["scope"]) ?? .session
        rule = row["rule"]
        ruleKey = row["rule_key"]
        grantedBy = row["granted_by"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        revokedAt = row["revoked_at"]
        revokedBy = row["revoked_by"]
        revokeReason = row["revoke_reason"]
    }

    /// `active`, `expired` or `revoked`, as of `now`.
    public func status(at now: Date = Date()) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, expiresAt <= now { return "expired" }
        return "active"
    }

    public func json(at now: Date = Date()) -> JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func time(_ d: Date?) -> JSONValue { d.map { .string(TraceEvent.timestamp($0)) } ?? .null }
        return [
            "id": .string(id), "approval_id": .string(approvalId), "tool": .string(tool), "agent": .string(agent),
            "session": text(session), "scope": .string(scope.rawValue), "rule": .string(rule), "granted_by": .string(grantedBy),
            "created_at": time(createdAt), "expires_at": time(expiresAt), "status": .string(status(at: now)),
            "revoked_at": time(revokedAt), "revoked_by": text(revokedBy), "revoke_reason": text(revokeReason),
        ]
    }
}

/// One answer to a pending request.
public struct ApprovalAnswer: Sendable, Equatable {
    public var granted: Bool
    /// Who answered: `cli:USER`, `http:AGENT`, `elicitation:AGENT`.
    public var by: String
    /// `elicitation`, `cli` or `http`.
    public var via: String
    public var reason: String?
    /// For a grant: how long it lasts (`call` when denied).
    public var scope: ApprovalScope
    /// A lasting grant's end (session and agent grants both end).
    public var grantExpiresAt: Date?

    /// How an answer from the caller's own client arrives (MCP elicitation); every other `via` is an operator's.
    public static let clientVia = "elicitation"

    /// Whether this answer came from the caller's own client (not an operator).
    public var isClient: Bool { via == Self.clientVia }

    public init(granted: Bool, by: String, via: String, reason: String? = nil, scope: ApprovalScope = .call, grantExpiresAt: Date? = nil) {
        self.granted = granted
        self.by = by
        self.via = via
        self.reason = reason
        self.scope = scope
        self.grantExpiresAt = grantExpiresAt
    }
}

/// What answering a request did.
public enum ApprovalDecision: Sendable, Equatable {
    /// This answer decided it (and made `grant`, when it lasts).
    case decided(ApprovalRecord, grant: ApprovalGrantRecord?)
    /// Someone answered first, or it had expired or been withdrawn: the record as it is.
    case alreadyResolved(ApprovalRecord)
    /// This answer may not decide it (`reason` says why: who may answer, which scopes); nothing changed.
    case refused(ApprovalRecord, reason: String)
    case notFound
}

extension ApprovalRecord {
    /// Why `answer` may not decide this request (who may answer it, which scopes it may grant, a
    /// lasting grant's end), or nil when it may: the one rule every store applies.
    public func refusal(of answer: ApprovalAnswer, now: Date) -> String? {
        if !approvers.admits(client: answer.isClient) {
            return "approval request \(id) is answered by \(approvers.description) (\(rule))"
        }
        if answer.granted, !scopes(client: answer.isClient).contains(answer.scope) {
            let allowed = scopes(client: answer.isClient).map(\.rawValue).joined(separator: ", ")
            let why = answer.scope == .session && !sessionEnds
                ? "the call came without a session that ends (REST, stateless MCP, a one-shot CLI call)"
                : "the rule that asked (\(rule)) lets \(answer.isClient ? "the caller's client" : "an operator") grant at most \(clientScope.rawValue)"
            return "scope \(answer.scope.rawValue) cannot be granted for approval request \(id): \(why); allowed: \(allowed)"
        }
        if answer.granted, answer.scope != .call, answer.grantExpiresAt.map({ $0 > now }) != true {
            return "a lasting grant needs an end in the future"
        }
        return nil
    }
}
