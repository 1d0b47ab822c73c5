import Foundation
import Registry

/// An operator's answer as the CLI and the HTTP API take it: approve or deny, for how long
/// (`call`, `session`, or `agent` for a duration), and why. Checked once, here, for both. Every
/// lasting grant ends: after `duration`, or `policy.grant_duration` (a session grant also when its session ends).
public struct ApprovalAnswerForm: Sendable {
    public var granted: Bool
    public var scope: String?
    /// An agent grant's length (`8h`); `policy.grant_duration` when not given.
    public var duration: String?
    public var reason: String?

    public init(granted: Bool, scope: String? = nil, duration: String? = nil, reason: String? = nil) {
        self.granted = granted
        self.scope = scope
        self.duration = duration
        self.reason = reason
    }

    /// The answer, by `by` through `via`; or what is wrong with the form.
    public func answer(by: String, via: String, manifest: Manifest, now: Date = Date()) throws(HostError) -> ApprovalAnswer {
        var scope = ApprovalScope.call
        if let text = self.scope {
            guard let parsed = ApprovalScope(rawValue: text) else {
                throw HostError(.caller, "scope must be one of call, session, agent; found '\(text)'")
            }
            scope = parsed
        }
        if duration != nil, scope == .call {
            if self.scope == nil { scope = .agent } else { throw HostError(.caller, "a duration is for a lasting grant (scope session or agent), not scope call") }
        }
        if !granted, scope != .call { throw HostError(.caller, "a denial is for the call only; scope \(scope.rawValue) is for approvals") }
        var lifetime = manifest.policy.grantDuration.seconds
        if let duration {
            do { lifetime = try ManifestDuration(parsing: duration).seconds } catch { throw HostError(.caller, "duration: \(error)") }
            guard lifetime > 0 else { throw HostError(.caller, "duration must be more than zero") }
        }
        if let reason, reason.utf8.count > 2000 { throw HostError(.caller, "reason is over 2000 bytes") }
        return ApprovalAnswer(granted: granted, by: by, via: via, reason: reason, scope: scope,
                              grantExpiresAt: scope == .call ? nil : now.addingTimeInterval(lifetime))
    }
}
