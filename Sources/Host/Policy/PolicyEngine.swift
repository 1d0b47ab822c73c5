import Base
import Plugins
import Registry
import Synchronization

/// Decides allow / ask / deny for a tool and a caller, exactly as DESIGN.md states it:
/// - rules come from three levels: `policy.rules`, the caller's role, the caller's group;
/// - among every rule that matches, deny beats ask beats allow (at every level alike);
/// - a tool no rule mentions gets `policy.default`;
/// - a high-risk tool counts only allow and ask rules that name it exactly (deny counts in any
///   form), and is denied when none does, whatever the default;
/// - `permissive` mode decides the same way but the router does not block on the decision.
public struct PolicyEngine: Sendable {
    struct CompiledRule: Sendable {
        let match: PolicyMatch
        let glob: Glob?
    }

    let mode: PolicyConfig.Mode
    let defaultDecision: PolicyDecision
    let file: String
    let globalRules: [CompiledRule]
    let roleRules: [String: [CompiledRule]]
    let groupRules: [String: [CompiledRule]]
    let riskRules: [(Glob?, PolicyConfig.RiskRule)]
    let approvers: ApprovalApprovers
    let clientGrants: ApprovalScope
    /// Verdicts already worked out in this snapshot (an engine is built per manifest, so a reload
    /// starts afresh).
    private let memo = VerdictMemo()

    public init(manifest: Manifest) {
        mode = manifest.policy.mode
        defaultDecision = manifest.policy.default
        file = manifest.file
        func compile(_ rules: [PolicyConfig.Rule], level: String) -> [CompiledRule] {
            rules.flatMap { rule in
                rule.patterns.map { pattern in
                    CompiledRule(match: PolicyMatch(level: level, decision: rule.decision, pattern: pattern, location: rule.location,
                                                    approvers: rule.approvers, clientGrants: rule.clientGrants),
                                 glob: try? Glob(pattern))
                }
            }
        }
        globalRules = compile(manifest.policy.rules, level: "policy.rules")
        roleRules = Dictionary(manifest.roles.map { ($0.name, compile($0.rules, level: "roles.\($0.name)")) }, uniquingKeysWith: { a, _ in a })
        groupRules = Dictionary(manifest.groups.map { ($0.name, compile($0.rules, level: "groups.\($0.name)")) }, uniquingKeysWith: { a, _ in a })
        riskRules = manifest.policy.risk.map { (try? Glob($0.pattern), $0) }
        approvers = manifest.policy.approvers
        clientGrants = manifest.policy.clientGrants
    }

    /// Who may answer a call `verdict` asks about, and the longest a client's answer may grant:
    /// the deciding rule's own settings, else the policy's; a high-risk tool is answered by
    /// operators unless the rule that asks says otherwise.
    public func approvalRights(_ verdict: PolicyVerdict) -> (approvers: ApprovalApprovers, clientGrants: ApprovalScope) {
        let approvers = verdict.deciding?.approvers ?? (verdict.risk == .high ? .operator : self.approvers)
        return (approvers, verdict.deciding?.clientGrants ?? clientGrants)
    }

    /// The risk of `tool`: the highest of what its plugin declares and what `policy.risk` says.
    public func risk(of tool: String, declared: ToolRisk?) -> ToolRisk {
        var risk = declared ?? .low
        for (glob, rule) in riskRules where glob?.matches(tool) ?? (rule.pattern == tool) {
            if let level = ToolRisk(rawValue: rule.level.rawValue), level > risk { risk = level }
        }
        return risk
    }

    /// The decision for `tool` called by a caller with `role` and `group`.
    public func decide(_ tool: String, declaredRisk: ToolRisk?, role: String?, group: String?) -> PolicyVerdict {
        let key = VerdictMemo.Key(tool: tool, declaredRisk: declaredRisk, role: role, group: group)
        if let known = memo.verdict(for: key) { return known }
        let verdict = work(tool, declaredRisk: declaredRisk, role: role, group: group)
        memo.remember(verdict, for: key)
        return verdict
    }

    private func work(_ tool: String, declaredRisk: ToolRisk?, role: String?, group: String?) -> PolicyVerdict {
        let risk = self.risk(of: tool, declared: declaredRisk)
        var rules = globalRules
        if let role { rules += roleRules[role] ?? [] }
        if let group { rules += groupRules[group] ?? [] }
        var matches: [PolicyMatch] = []
        var ignored: [PolicyMatch] = []
        for rule in rules where rule.glob?.matches(tool) ?? (rule.match.pattern == tool) {
            if risk == .high, rule.match.decision != .deny, rule.match.pattern != tool {
                ignored.append(rule.match)
            } else {
                matches.append(rule.match)
            }
        }
        for decision in [PolicyDecision.deny, .ask, .allow] {
            if let deciding = matches.first(where: { $0.decision == decision }) {
                return PolicyVerdict(tool: tool, decision: decision, risk: risk, mode: mode, deciding: deciding,
                                     matches: matches, ignoredForRisk: ignored,
                                     reason: "\(Self.verb(decision)) by \(deciding.level) at \(file):\(deciding.location.line):\(deciding.location.column) (\(decision.rawValue): \(deciding.pattern))")
            }
        }
        if risk == .high {
            let note = ignored.isEmpty ? "" : "; \(ignored.map { "\($0.level) \($0.decision.rawValue): \($0.pattern)" }.joined(separator: ", ")) matches it only by pattern"
            return PolicyVerdict(tool: tool, decision: .deny, risk: risk, mode: mode, deciding: nil, matches: matches, ignoredForRisk: ignored,
                                 reason: "high-risk tool: blocked because no rule allows it by its exact name\(note)")
        }
        return PolicyVerdict(tool: tool, decision: defaultDecision, risk: risk, mode: mode, deciding: nil, matches: [], ignoredForRisk: [],
                             reason: "no rule mentions it; policy.default is \(defaultDecision.rawValue)")
    }

    /// Whether a rule allows `action` for the caller by its exact name: how plugins check rights
    /// that are not tools, such as `memory_write_global`. Actions are treated as high risk, so
    /// neither a glob like `memory_*` nor the default grants them.
    public func explicitlyAllows(_ action: String, role: String?, group: String?) -> Bool {
        let verdict = decide(action, declaredRisk: .high, role: role, group: group)
        return verdict.decision == .allow && verdict.deciding != nil
    }

    static func verb(_ decision: PolicyDecision) -> String {
        switch decision {
        case .allow: return "allowed"
        case .ask: return "needs approval"
        case .deny: return "denied"
        }
    }
}

/// A rule that matched a tool: the level it was written at, its decision and pattern, and where.
public struct PolicyMatch: Sendable, Equatable {
    public let level: String
    public let decision: PolicyDecision
    public let pattern: String
    public let location: SourceLocation
    /// An ask rule's own `approvers:` and `client_grants:`, when it says.
    public var approvers: ApprovalApprovers?
    public var clientGrants: ApprovalScope?
}

/// The policy engine's answer for one tool and caller, with everything `tools explain` prints.
public struct PolicyVerdict: Sendable, Equatable {
    public let tool: String
    public let decision: PolicyDecision
    public let risk: ToolRisk
    public let mode: PolicyConfig.Mode
    /// The rule that decided, or nil when the default or the high-risk rule did.
    public let deciding: PolicyMatch?
    /// Every rule that matched and counted.
    public let matches: [PolicyMatch]
    /// Allow or ask rules that matched a high-risk tool only by pattern, and so did not count.
    public let ignoredForRisk: [PolicyMatch]
    public let reason: String

    /// Whether the call may run: allowed, or any decision in permissive mode.
    public var permitsCall: Bool { decision == .allow || mode == .permissive }
    /// Whether the tool is shown to the caller: allowed or asking (or anything in permissive mode).
    public var isVisible: Bool { decision != .deny || mode == .permissive }
}

/// A snapshot's verdicts by (tool, declared risk, role, group): matching every rule's glob and
/// composing the reason cost ~3 µs a call. Bounded: past `limit` entries (callers naming tools
/// that do not exist, say) it starts again empty.
final class VerdictMemo: Sendable {
    struct Key: Hashable, Sendable {
        let tool: String
        let declaredRisk: ToolRisk?
        let role: String?
        let group: String?
    }

    static let limit = 4096
    private let verdicts = Mutex<[Key: PolicyVerdict]>([:])

    func verdict(for key: Key) -> PolicyVerdict? { verdicts.withLock { $0[key] } }

    func remember(_ verdict: PolicyVerdict, for key: Key) {
        verdicts.withLock { known in
            if known.count >= Self.limit { known.removeAll(keepingCapacity: true) }
            known[key] = verdict
        }
    }
}
