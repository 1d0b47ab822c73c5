import Base
import Core
import Foundation
import Host
import Hummingbird

extension WebConsole {
    /// `GET /events` (the latest events, filters by agent, session and type, a live tail over SSE when
    /// JavaScript runs, and `before=ID` for older pages), `GET /events/stream` (that tail: the API's stream, signed in by cookie),
    /// `GET /events/export.jsonl` (what the page shows, as JSON Lines) and `GET /events/timeline?session=`
    /// (a session's calls with their durations and outcomes). A key sees its own agent's events.
    func addEventPages(_ pages: RouterGroup<APIContext>) {
        pages.get("events") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let filters = try Self.eventFilters(request, who)
            var query = filters.query
            query.newestFirst = true
            query.limit = 100
            // `before=ID` pages back through older events; the live tail runs on the newest page only.
            let before = request.query("before").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
            query.beforeId = before ?? 0
            let events = try await self.eventPage(query)
            // The tail goes on from the newest event shown (none shown: nothing matched yet, so from the start).
            let newest = events.first?.id ?? 0
            let filtered = filters.queryString.isEmpty ? "" : filters.queryString + "&"
            var data: [String: Any] = [
                "agent": filters.agent, "session": filters.session, "type": filters.types, "admin": who.admin,
                "agents": who.admin ? who.snapshot.manifest.agents.map { ["name": $0.name, "selected": $0.name == filters.agent] } : [],
                "events": events.map(Self.eventRow), "none": events.isEmpty,
                "stream": before == nil ? "/events/stream?" + filtered + "after=\(newest)" : "",
                "export": "/events/export.jsonl?" + filtered + (before.map { "before=\($0)" } ?? ""),
                "paged": before != nil, "newestHref": "/events" + (filters.queryString.isEmpty ? "" : "?" + filters.queryString),
            ]
            if events.count == query.limit, let oldest = events.last { data["olderHref"] = "/events?" + filtered + "before=\(oldest.id)" }
            return self.view.page("events", title: "Events", section: "/events", data: data, who: viewer)
        }
        pages.get("events/stream") { request, context -> Response in
            let (_, who) = try await self.viewer(context)
            var query = try HTTPAPI.eventQuery(request, who, cursorHeader: true)
            query.limit = 500
            return try self.api.eventStream(query, who)
        }
        pages.get("events/export.jsonl") { request, context -> Response in
            let (_, who) = try await self.viewer(context)
            var query = try Self.eventFilters(request, who).query
            query.newestFirst = true
            query.limit = 1000
            query.beforeId = request.query("before").flatMap { Int64($0) } ?? 0
            let events = try await self.eventPage(query)
            let text = events.reversed().map { $0.json.jsonText }.joined(separator: "\n") + (events.isEmpty ? "" : "\n")
            return Response(status: .ok, headers: [
                .contentType: "application/x-ndjson; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"agenthub-events.jsonl\"",
            ], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        pages.get("events/timeline") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            guard let session = request.query("session"), !session.isEmpty else {
                throw ConsoleError.badRequest("Name a session: /events/timeline?session=ID.")
            }
            var query = TraceQuery(session: TraceEvent.storedName(session), limit: 2000)
            if !who.admin { query.agent = who.agent }
            let events = try await self.eventPage(query)
            let calls = Self.timeline(events)
            let data: [String: Any] = [
                "session": session, "calls": calls, "none": calls.isEmpty, "count": events.count,
                "export": "/events/export.jsonl?session=" + ConsoleFormat.encode(session),
                "first": events.first?.at ?? "–", "last": events.last?.at ?? "–",
            ]
            return self.view.page("timeline", title: "Session \(session)", section: "/events", data: data, who: viewer)
        }
    }

    /// A page of the event log, its failure as the console's error.
    func eventPage(_ query: TraceQuery) async throws -> [TraceEvent] {
        do throws(CoreError) { return try await api.events.page(query) } catch { throw ConsoleError(error) }
    }

    /// The page's filters, checked like the API's (another agent's events only for an admin).
    struct EventFilters {
        var query: TraceQuery
        var agent: String
        var session: String
        var types: String
        var queryString: String
    }

    static func eventFilters(_ request: Request, _ who: APIIdentity) throws -> EventFilters {
        func value(_ name: String) -> String { request.query(name)?.trimmingCharacters(in: .whitespaces) ?? "" }
        let agent = value("agent"), session = value("session"), types = value("type")
        var query = TraceQuery()
        if !agent.isEmpty {
            guard who.admin || agent == who.agent else { throw ConsoleError.forbidden("A key sees only its own agent's events; agent '\(who.agent)' is not an admin.") }
            query.agent = agent
        }
        if !who.admin { query.agent = who.agent }
        if !session.isEmpty { query.session = TraceEvent.storedName(session) }
        if !types.isEmpty {
            query.types = types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard query.types.count <= 20 else { throw ConsoleError.badRequest("At most 20 types at once.") }
        }
        var parts: [String] = []
        if !agent.isEmpty { parts.append("agent=" + ConsoleFormat.encode(agent)) }
        if !session.isEmpty { parts.append("session=" + ConsoleFormat.encode(session)) }
        if !types.isEmpty { parts.append("type=" + ConsoleFormat.encode(types)) }
        return EventFilters(query: query, agent: agent, session: session, types: types, queryString: parts.joined(separator: "&"))
    }

    /// A session's events as calls: each span's start, tool, how it ended and how long it took; events
    /// that are not calls (reported states, approvals) are listed where they happened.
    static func timeline(_ events: [TraceEvent]) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        var bySpan: [String: Int] = [:]
        for event in events {
            if event.type == "tool.called" {
                bySpan[event.spanId] = rows.count
                rows.append(["at": event.at, "time": String(event.at.dropFirst(11).prefix(12)), "tool": event.tool, "agent": event.agent,
                             "span": event.spanId, "outcome": "running", "outcomeClass": "warn", "duration": "–", "call": true])
                continue
            }
            if let index = bySpan[event.spanId], event.type.hasPrefix("tool.") || event.type.hasPrefix("approval.") {
                if event.type.hasPrefix("approval.") {
                    var notes = rows[index]["notes"] as? [String] ?? []
                    notes.append(event.type)
                    rows[index]["notes"] = notes
                    continue
                }
                let outcome = outcome(of: event.type)
                rows[index]["outcome"] = event.type.replacingOccurrences(of: "tool.", with: "")
                rows[index]["outcomeClass"] = outcome == "ok" ? "good" : "bad"
                if let ms = event.durationMs { rows[index]["duration"] = String(format: "%.1f ms", ms) }
                if event.type != "tool.result", let detail = event.detail { rows[index]["detail"] = String(detail.jsonText.prefix(300)) }
                continue
            }
            rows.append(["at": event.at, "time": String(event.at.dropFirst(11).prefix(12)), "tool": event.tool.isEmpty ? event.type : event.tool,
                         "agent": event.agent, "span": event.spanId, "outcome": event.type, "outcomeClass": "", "duration": event.durationMs.map { String(format: "%.1f ms", $0) } ?? "–",
                         "call": false, "detail": event.detail.map { String($0.jsonText.prefix(300)) } ?? (event.state ?? "")])
        }
        return rows
    }
}
