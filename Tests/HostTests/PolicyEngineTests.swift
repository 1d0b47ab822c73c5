import Plugins
import Testing
@testable import Host

/// The policy engine, case by case: precedence (deny > ask > allow) within and across the global,
/// role and group levels, globs, the default, high-risk tools, permissive mode.
@Suite struct PolicyEngineTests {
    static let manifest = """
        version: 1
        policy:
          default: deny
          rules:
            - allow: [skills_*, read_file, list_files]
            - ask: [memory_write, approve_me]
            - deny: [danger, skills_admin]
          risk:
            "git__*": high
            "ops_*": high
            write_file: low
            lowered: low
        roles:
          researcher:
            allow: [memory_*, time__*, git__git_status, ops_*]
            deny: [memory_delete]
            ask: [time__set]
          editor:
            allow: [memory_*, export_trace, approve_me, danger, memory_write_global]
            ask: [git__git_commit]
          auditor:
            deny: ["*"]
          admin:
            allow: ["*", git__git_reset]
        groups:
          writers:
            members: [researcher, editor]
            lead: editor
            allow: [group_tool]
            ask: [memory_search]
            deny: [time__now]
          ops:
            members: [admin, researcher, auditor]
            allow: [git__git_push]
            deny: [export_trace]
        """

    struct Case: CustomTestStringConvertible, Sendable {
        var tool: String
        var risk: ToolRisk? = nil
        var role: String? = nil
        var group: String? = nil
        var expect: PolicyDecision
        /// The level that decided (`policy.rules`, `roles.X`, `groups.X`), or `default` / `high-risk`.
        var by: String
        var pattern: String? = nil
        var testDescription: String { "\(tool) as \(role ?? "-")/\(group ?? "-") → \(expect.rawValue) by \(by)" }
    }

    static let cases: [Case] = [
        // The global level alone.
        Case(tool: "skills_search", expect: .allow, by: "policy.rules", pattern: "skills_*"),
        Case(tool: "read_file", expect: .allow, by: "policy.rules", pattern: "read_file"),
        Case(tool: "never_mentioned", expect: .deny, by: "default"),
        Case(tool: "memory_write", expect: .ask, by: "policy.rules", pattern: "memory_write"),
        Case(tool: "danger", expect: .deny, by: "policy.rules", pattern: "danger"),
        Case(tool: "skills_admin", expect: .deny, by: "policy.rules", pattern: "skills_admin"),
        Case(tool: "skills_", expect: .allow, by: "policy.rules", pattern: "skills_*"),
        Case(tool: "skill_search", expect: .deny, by: "default"),
        // The role level, and the role against the global level.
        Case(tool: "memory_get", role: "researcher", expect: .allow, by: "roles.researcher", pattern: "memory_*"),
        Case(tool: "memory_delete", role: "researcher", expect: .deny, by: "roles.researcher", pattern: "memory_delete"),
        Case(tool: "memory_write", role: "researcher", expect: .ask, by: "policy.rules", pattern: "memory_write"),
        Case(tool: "time__now", role: "researcher", expect: .allow, by: "roles.researcher", pattern: "time__*"),
        Case(tool: "time__set", role: "researcher", expect: .ask, by: "roles.researcher", pattern: "time__set"),
        Case(tool: "danger", role: "editor", expect: .deny, by: "policy.rules", pattern: "danger"),
        Case(tool: "approve_me", role: "editor", expect: .ask, by: "policy.rules", pattern: "approve_me"),
        Case(tool: "export_trace", role: "editor", expect: .allow, by: "roles.editor", pattern: "export_trace"),
        Case(tool: "export_trace", role: "researcher", expect: .deny, by: "default"),
        Case(tool: "skills_search", role: "auditor", expect: .deny, by: "roles.auditor", pattern: "*"),
        Case(tool: "read_file", role: "auditor", expect: .deny, by: "roles.auditor", pattern: "*"),
        Case(tool: "anything_at_all", role: "admin", expect: .allow, by: "roles.admin", pattern: "*"),
        Case(tool: "danger", role: "admin", expect: .deny, by: "policy.rules", pattern: "danger"),
        // The group level, and the group against the role and global levels.
        Case(tool: "memory_search", role: "researcher", group: "writers", expect: .ask, by: "groups.writers", pattern: "memory_search"),
        Case(tool: "memory_search", role: "researcher", expect: .allow, by: "roles.researcher", pattern: "memory_*"),
        Case(tool: "group_tool", role: "editor", group: "writers", expect: .allow, by: "groups.writers", pattern: "group_tool"),
        Case(tool: "group_tool", role: "editor", expect: .deny, by: "default"),
        Case(tool: "group_tool", role: "admin", group: "ops", expect: .allow, by: "roles.admin", pattern: "*"),
        Case(tool: "time__now", role: "researcher", group: "writers", expect: .deny, by: "groups.writers", pattern: "time__now"),
        Case(tool: "export_trace", role: "editor", group: "writers", expect: .allow, by: "roles.editor", pattern: "export_trace"),
        Case(tool: "export_trace", role: "admin", group: "ops", expect: .deny, by: "groups.ops", pattern: "export_trace"),
        Case(tool: "read_file", role: "researcher", group: "ops", expect: .allow, by: "policy.rules", pattern: "read_file"),
        Case(tool: "group_tool", role: "auditor", group: "ops", expect: .deny, by: "roles.auditor", pattern: "*"),
        // High-risk tools: only exact names allow; deny counts in any form; the default never allows.
        Case(tool: "git__git_status", role: "researcher", expect: .allow, by: "roles.researcher", pattern: "git__git_status"),
        Case(tool: "git__git_log", role: "researcher", expect: .deny, by: "high-risk"),
        Case(tool: "git__git_log", role: "admin", expect: .deny, by: "high-risk"),
        Case(tool: "git__git_reset", role: "admin", expect: .allow, by: "roles.admin", pattern: "git__git_reset"),
        Case(tool: "git__git_push", role: "admin", group: "ops", expect: .allow, by: "groups.ops", pattern: "git__git_push"),
        Case(tool: "git__git_push", role: "admin", expect: .deny, by: "high-risk"),
        Case(tool: "ops_deploy", role: "researcher", expect: .deny, by: "high-risk"),
        Case(tool: "git__git_status", role: "auditor", expect: .deny, by: "roles.auditor", pattern: "*"),
        Case(tool: "git__git_commit", role: "editor", expect: .ask, by: "roles.editor", pattern: "git__git_commit"),
        Case(tool: "write_file", risk: .high, role: "admin", expect: .deny, by: "high-risk"),
        Case(tool: "read_file", risk: .high, expect: .allow, by: "policy.rules", pattern: "read_file"),
        Case(tool: "lowered", risk: .high, role: "admin", expect: .deny, by: "high-risk"),
        Case(tool: "memory_get", risk: .medium, role: "researcher", expect: .allow, by: "roles.researcher", pattern: "memory_*"),
    ]

    static let engine = PolicyEngine(manifest: try! ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:]))

    @Test(arguments: cases)
    func decides(_ c: Case) throws {
        let verdict = Self.engine.decide(c.tool, declaredRisk: c.risk, role: c.role, group: c.group)
        #expect(verdict.decision == c.expect, "\(verdict.reason)")
        switch c.by {
        case "default":
            #expect(verdict.deciding == nil && verdict.reason.contains("policy.default"))
        case "high-risk":
            #expect(verdict.deciding == nil && verdict.risk == .high && verdict.reason.contains("exact name"))
        default:
            let deciding = try #require(verdict.deciding)
            #expect(deciding.level == c.by)
            #expect(deciding.pattern == c.pattern)
            // The rule's line is the line that holds its pattern.
            let line = Self.manifest.split(separator: "\n", omittingEmptySubsequences: false)[deciding.location.line - 1]
            #expect(line.contains(c.pattern!), "line \(deciding.location.line): \(line)")
        }
        #expect(verdict.permitsCall == (c.expect == .allow))
    }

    @Test func aRiskRuleRaisesAToolsRiskButNeverLowersIt() {
        #expect(Self.engine.risk(of: "write_file", declared: .high) == .high)
        #expect(Self.engine.risk(of: "git__anything", declared: .low) == .high)
        #expect(Self.engine.risk(of: "memory_get", declared: nil) == .low)
    }

    @Test func theDefaultAllowsUnmentionedToolsButNeverAHighRiskOne() throws {
        let engine = PolicyEngine(manifest: try ManifestLoader.parse("""
            version: 1
            policy:
              default: allow
              rules:
                - deny: ["secret_*"]
            """, file: "registry.yaml", environment: [:]))
        #expect(engine.decide("anything", declaredRisk: nil, role: nil, group: nil).decision == .allow)
        #expect(engine.decide("secret_thing", declaredRisk: nil, role: nil, group: nil).decision == .deny)
        #expect(engine.decide("write_file", declaredRisk: .high, role: nil, group: nil).decision == .deny)
        #expect(!engine.explicitlyAllows("memory_write_global", role: nil, group: nil))
    }

    @Test func permissiveModeDecidesTheSameButPermitsAndShowsEveryCall() throws {
        let text = Self.manifest.replacingOccurrences(of: "  default: deny", with: "  mode: permissive\n  default: deny")
        let engine = PolicyEngine(manifest: try ManifestLoader.parse(text, file: "registry.yaml", environment: [:]))
        for (tool, role, decision) in [("danger", nil, PolicyDecision.deny), ("memory_write", nil, .ask),
                                       ("git__git_log", "admin", .deny), ("read_file", nil, .allow)] as [(String, String?, PolicyDecision)] {
            let verdict = engine.decide(tool, declaredRisk: nil, role: role, group: nil)
            #expect(verdict.decision == decision)
            #expect(verdict.permitsCall && verdict.isVisible)
        }
        let enforced = Self.engine.decide("danger", declaredRisk: nil, role: nil, group: nil)
        #expect(!enforced.permitsCall && !enforced.isVisible)
    }

    @Test func nonToolActionsNeedAnExactAllowAndNoGlobGrantsThem() {
        #expect(Self.engine.explicitlyAllows("memory_write_global", role: "editor", group: nil))
        #expect(!Self.engine.explicitlyAllows("memory_write_global", role: "researcher", group: nil))
        #expect(!Self.engine.explicitlyAllows("memory_write_global", role: "admin", group: nil))
    }

    @Test func askToolsAreShownButNotPermitted() {
        let verdict = Self.engine.decide("memory_write", declaredRisk: nil, role: "editor", group: nil)
        #expect(verdict.decision == .ask && verdict.isVisible && !verdict.permitsCall)
    }
}
