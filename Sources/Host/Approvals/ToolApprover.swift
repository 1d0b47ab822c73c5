import Base
import Foundation
import Registry

/// What a caller's own client is shown when a call needs approval (MCP `elicitation/create`).
public struct ApprovalPrompt: Sendable {
    public let id: String
    public let tool: String
    /// The arguments with secrets redacted (content readable, capped): the approver sees what they approve.
    public let arguments: JSONValue
    /// `registry.yaml:LINE:COL` of the rule that asked.
    public let rule: String
    public let expiresAt: Date
    /// How long a lasting grant lasts (`policy.grant_duration`).
    public let grantDuration: ManifestDuration
    /// What the client may grant: `call`, and `session` or `agent` only where the rule lets a client grant them.
    public var scopes: [ApprovalScope] = [.call]
}

/// Asks the caller's client to approve a call; nil when it cannot answer (then operators decide).
public typealias ToolApprover = @Sendable (ApprovalPrompt) async -> ApprovalAnswer?

/// A call that must not wait for its approval (MCP 2026-07-28, stateless): the router stores the
/// request and answers "input required" with the question for the client; the client's retry
/// carries the request's id (`requestState`) and its answer.
public struct DeferredApproval: Sendable {
    public var requestState: String?
    public var answer: ApprovalAnswer?

    public init(requestState: String?, answer: ApprovalAnswer?) {
        self.requestState = requestState
        self.answer = answer
    }
}

/// How a call whose decision is `ask` gets its answer.
public enum ApprovalMode: Sendable {
    /// The call waits for the first answer from anyone, the request's expiry, or the caller's
    /// cancellation. `asking`: the caller's own client, when it can answer (MCP elicitation);
    /// `announce`: hears the question when the call starts to wait (a person at a terminal).
    case wait(asking: ToolApprover? = nil, announce: (@Sendable (ApprovalPrompt) -> Void)? = nil)
    /// The call does not wait (MCP 2026-07-28, stateless): it resumes the request it names, with
    /// the client's answer, or stores a new one and answers "input required".
    case resume(DeferredApproval)

    /// Waits, asking nobody but operators.
    public static let operators = ApprovalMode.wait()
}
