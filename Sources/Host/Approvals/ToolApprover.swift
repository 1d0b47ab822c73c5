import Base
import Foundation
import Registry

/// What a caller's own client is shown when a call needs approval (MCP `elicitation/create`).
public struct ApprovalPrompt: Sendable {
    public let id: String
    public let tool: String
    /// The arguments, redacted as traces store them.
    public let arguments: JSONValue
    /// `registry.yaml:LINE:COL` of the rule that asked.
    public let rule: String
    public let expiresAt: Date
    /// How long an agent grant lasts (`policy.grant_duration`).
    public let grantDuration: Duration
    public let grantDurationText: String
}

/// Asks the caller's client to approve a call; nil when it cannot answer (then operators decide).
public typealias ToolApprover = @Sendable (ApprovalPrompt) async -> ApprovalAnswer?
