import Base
import Foundation
import Host
import Hummingbird
import Plugins

extension WebConsole {
    /// `GET /tools[?role=R]`: every tool the enabled plugins offer with the policy's decision for the
    /// caller, its risk and the rule that decided (`registry.yaml:LINE:COL`), as `agenthub tools explain`
    /// shows it; and the bridged servers with their state, restarts and (for admins) stderr tail.
    /// A key sees its own agent's view; an admin may pick any role.
    func addToolPages(_ pages: RouterGroup<APIContext>) {
        pages.get("tools") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let snapshot = who.snapshot
            let manifest = snapshot.manifest
            let ownRole = who.caller.role ?? ""
            let asked = request.query("role").flatMap { $0.isEmpty ? nil : $0 }
            var caller = who.caller
            var heading = "As agent \(who.agent) (role \(ownRole.isEmpty ? "none" : ownRole))"
            if let asked, asked != ownRole {
                try Self.requireAdmin(who, "see another role's tools")
                guard manifest.role(named: asked) != nil else { throw ConsoleError.notFound("No role '\(TraceRedaction.name(asked))' in the manifest.") }
                do throws(HostError) { caller = try snapshot.tools.identity.caller(agent: "console:\(asked)", role: asked, group: nil) } catch {
                    throw ConsoleError.badRequest(error.message)
                }
                heading = "As role \(asked) (an agent of that role with no agent-level rules)"
            }
            let router = snapshot.tools.router
            let file = manifest.file
            let tools = router.descriptors.sorted { $0.name < $1.name }.map { d -> [String: Any] in
                let v = router.verdict(for: d.name, caller: caller)
                var row: [String: Any] = [
                    "name": d.name, "title": d.title, "description": d.description, "decision": v.decision.rawValue, "risk": v.risk.rawValue,
                    "reason": v.reason, "effect": v.permitsCall ? (v.decision == .allow ? "runs" : "runs (permissive)") : (v.decision == .ask ? "asks first" : "blocked"),
                    "decisionClass": v.decision == .allow ? "good" : v.decision == .ask ? "warn" : "bad",
                ]
                if let rule = v.deciding {
                    row["rule"] = "\(file):\(rule.location.line):\(rule.location.column)"
                    row["ruleText"] = "\(rule.level) \(rule.decision.rawValue) \(rule.pattern)"
                }
                return row
            }
            var servers: [[String: Any]] = []
            for status in self.state.parts.bridge.statuses {
                var row = Self.serverRow(status, admin: who.admin)
                if let login = await self.loginRow(status.server, who) { row["login"] = login }
                servers.append(row)
            }
            var data: [String: Any] = [
                "heading": heading, "tools": tools, "mode": manifest.policy.mode.rawValue, "admin": who.admin,
                "servers": servers,
                "hasServers": !self.state.parts.bridge.statuses.isEmpty,
            ]
            if who.admin {
                data["roles"] = manifest.roles.map { ["name": $0.name, "selected": $0.name == (asked ?? ownRole)] }
            }
            return self.view.page("tools", title: "Tools", section: "/tools", data: data, who: viewer)
        }
    }
}
