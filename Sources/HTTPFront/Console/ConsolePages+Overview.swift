import Base
import Core
import Foundation
import Host
import Hummingbird
import Plugins

extension WebConsole {
    /// `GET /`: the host at a glance: uptime, the manifest revision and the last reload with its errors,
    /// readiness, the sources, the bridged servers, pending approvals and the latest failed calls.
    func addOverview(_ pages: RouterGroup<APIContext>) {
        pages.get("/") { _, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let agent: String? = who.admin ? nil : who.agent
            var failed = TraceQuery(agent: agent, types: ["tool.failed", "tool.blocked"], limit: 10)
            failed.newestFirst = true
            let sources: [SourceReport], pending: [ApprovalRecord], failures: [TraceEvent]
            do throws(CoreError) {
                sources = try await self.api.directory.sources()
                pending = try await self.api.desk.book.requests(status: .pending, agent: agent, limit: 5)
                failures = try await self.api.events.page(failed)
            } catch { throw ConsoleError(error) }
            let readiness = await HostReadiness.check(self.state)
            var host: [String: Any] = [
                "uptime": ConsoleFormat.duration(Date().timeIntervalSince(self.started)), "started": ConsoleFormat.time(self.started),
                "revision": ConsoleFormat.short(who.snapshot.revision), "config": self.state.configPath, "pid": Int(getpid()),
                "ready": readiness.ready, "reasons": readiness.reasons,
            ]
            if let reload = readiness.lastReload {
                host["reload"] = [
                    "result": reload.result.rawValue, "trigger": reload.trigger.rawValue, "at": ConsoleFormat.time(reload.at),
                    "ago": ConsoleFormat.relative(reload.at), "message": reload.message, "errors": reload.errors,
                    "rejected": reload.result == .rejected,
                ] as [String: Any]
            }
            let data: [String: Any] = [
                "host": host,
                "sources": sources.map(Self.sourceRow),
                "servers": self.state.parts.bridge.statuses.map { Self.serverRow($0, admin: who.admin) },
                "hasServers": !self.state.parts.bridge.statuses.isEmpty,
                "pending": pending.map(Self.approvalRow), "pendingCount": viewer.pending,
                "failures": failures.map(Self.eventRow),
            ]
            return self.view.page("overview", title: "Overview", section: "/", data: data, who: viewer)
        }
    }

    /// A source's row: the core's report (its status derived once), formatted for a page.
    static func sourceRow(_ report: SourceReport) -> [String: Any] {
        let s = report.record
        var row: [String: Any] = [
            "name": s.name, "kind": s.kind.rawValue, "location": Redaction.url(s.location), "status": report.status.rawValue,
            "healthy": report.isHealthy,
            "revision": ConsoleFormat.short(s.revision), "commit": ConsoleFormat.short(s.commit), "skills": s.skillCount,
            "loadable": s.loadableCount, "strict": s.strictCount, "shadowed": s.shadowedCount, "failures": s.consecutiveFailures,
            "lastSuccess": ConsoleFormat.relative(s.lastSuccessAt), "lastSuccessAt": ConsoleFormat.time(s.lastSuccessAt),
            "lastAttempt": ConsoleFormat.relative(s.lastTriedAt), "lastAttemptAt": ConsoleFormat.time(s.lastTriedAt),
            "nextAttempt": s.nextAttemptAt.map { ConsoleFormat.relative($0) } ?? "–", "nextAttemptAt": ConsoleFormat.time(s.nextAttemptAt),
            "href": "/skills?source=" + ConsoleFormat.encode(s.name),
        ]
        if let reason = report.reason { row["reason"] = reason }
        if let kind = report.failureKind { row["failureKind"] = kind }
        return row
    }

    static func serverRow(_ s: BridgedServerStatus, admin: Bool) -> [String: Any] {
        var row: [String: Any] = [
            "server": s.server, "state": s.state.rawValue, "pid": s.pid.map { String($0) } ?? (s.url.map { "remote: \($0)" } ?? "–"), "protocol": s.protocolVersion ?? "–",
            "tools": s.toolCount, "restarts": s.restarts, "since": ConsoleFormat.relative(s.since), "sinceAt": ConsoleFormat.time(s.since),
            "lastExit": s.lastExit ?? "–", "problems": s.problems, "running": s.state == .ready,
        ]
        // A server's stderr may name paths and settings: an admin's to read.
        if admin, !s.stderrTail.isEmpty { row["stderr"] = s.stderrTail.suffix(20).joined(separator: "\n") }
        return row
    }

    static func approvalRow(_ a: ApprovalRecord) -> [String: Any] {
        var row: [String: Any] = [
            "id": a.id, "tool": a.tool, "agent": a.agent, "role": a.role ?? "–", "session": a.session, "rule": a.rule,
            "reason": a.policyReason, "arguments": Self.pretty(a.arguments), "status": a.status.rawValue,
            "created": ConsoleFormat.relative(a.createdAt), "createdAt": ConsoleFormat.time(a.createdAt),
            "expires": ConsoleFormat.relative(a.expiresAt), "expiresAt": ConsoleFormat.time(a.expiresAt),
            "pending": a.status == .pending,
        ]
        if let by = a.decidedBy { row["decidedBy"] = by + (a.decidedVia.map { " via \($0)" } ?? "") }
        if let when = a.decidedAt { row["decided"] = ConsoleFormat.relative(when) }
        if let why = a.decisionReason, !why.isEmpty { row["decisionReason"] = why }
        if let scope = a.scope { row["scope"] = scope.rawValue }
        return row
    }

    static func eventRow(_ e: TraceEvent) -> [String: Any] {
        var row: [String: Any] = [
            "id": Int(e.id), "at": e.at, "time": String(e.at.dropFirst(11).prefix(12)), "type": e.type, "agent": e.agent,
            "session": e.session, "sessionHref": "/events/timeline?session=" + ConsoleFormat.encode(e.session), "tool": e.tool,
            "decision": e.decision ?? "", "outcome": Self.outcome(of: e.type),
        ]
        if let ms = e.durationMs { row["duration"] = String(format: "%.1f ms", ms) }
        if let detail = e.detail { row["detail"] = String(detail.jsonText.prefix(400)) }
        return row
    }

    /// How an event reads at a glance: "ok", "failed", "blocked" or "" (not an ending).
    static func outcome(of type: String) -> String {
        switch type {
        case "tool.result", "approval.granted": return "ok"
        case "tool.failed", "error", "approval.expired", "approval.withdrawn": return "failed"
        case "tool.blocked", "approval.denied", "tool.name_collision": return "blocked"
        default: return ""
        }
    }

    /// Stored JSON text, indented for reading (as stored when it does not parse).
    static func pretty(_ text: String) -> String {
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed]) else { return text }
        return String(decoding: out, as: UTF8.self)
    }
}
