import Base
import Core
import Foundation
import Host
import Hummingbird

extension HTTPAPI {
    static var reportedTypes: [String] { EventLog.reportedTypes }
    static var agentStates: [String] { EventLog.agentStates }

    /// `GET /v1/events`, `GET /v1/events/stream` (SSE), `POST /v1/events` (ingest), `GET /v1/agents`.
    /// The trace store is the event log: a key sees its own agent's events, an admin every agent's.
    func addEventRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("events") { request, context -> Response in
            let who = try context.who()
            var query = try Self.eventQuery(request, who, cursorHeader: false)
            let params = request.uri.queryParameters
            if let raw = params.get("limit") {
                guard let n = Int(raw), (1...1000).contains(n) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000, found '\(raw)'") }
                query.limit = n
            } else {
                query.limit = 100
            }
            let events = try await Self.core { () throws(CoreError) in try await self.events.page(query) }
            return HTTPFront.json(.ok, ["events": .array(events.map(\.json)), "next_after": .int(Int(events.last?.id ?? query.afterId))])
        }
        v1.get("events/stream") { request, context -> Response in
            let who = try context.who()
            var query = try Self.eventQuery(request, who, cursorHeader: true)
            query.limit = 500
            return try self.eventStream(query, who)
        }
        v1.post("events") { request, context -> Response in
            let who = try context.who()
            var request = request
            let body = try await self.json(&request)
            let items: [JSONValue]
            switch body {
            case .array(let array): items = array
            case .object: items = [body]
            default: throw APIError.badRequest("the body must be an event object or an array of them, got \(body.typeName)")
            }
            guard !items.isEmpty, items.count <= 1000 else { throw APIError.badRequest("send 1 to 1000 events at a time, got \(items.count)") }
            let events = try items.enumerated().map { index, item in
                try Self.reportedEvent(item, who, label: items.count == 1 && body.arrayValue == nil ? "event" : "events[\(index)]")
            }
            let limits = who.snapshot.manifest.http
            guard events.count <= limits.ingestBurst else {
                throw APIError.badRequest("send at most \(limits.ingestBurst) events at a time (http.ingest_burst), got \(events.count)")
            }
            if let wait = self.ingestLimiter.admit(who.agent, rate: limits.ingestRate, burst: limits.ingestBurst, cost: events.count) {
                throw APIError(.tooManyRequests, "rate_limited", "agent '\(who.agent)' reports more than \(limits.ingestRate) events a second (http.ingest_rate); nothing was recorded, retry after \(wait) s",
                               headers: [.retryAfter: "\(wait)"])
            }
            do throws(CoreError) {
                let ids = try await self.events.append(reported: events)
                self.state.parts.recorder.stored.fire()
                return HTTPFront.json(.created, ["ids": .array(ids.map { .int(Int($0)) }), "count": .int(ids.count)])
            } catch {
                switch error.code {
                case .conflict: throw APIError(.conflict, "span_taken", error.message + "; nothing was recorded")
                case .invalid: throw APIError.badRequest(error.message + "; nothing was recorded")
                case .notFound, .storage, .forbidden, .unavailable: throw APIError.unavailable(error.message + "; nothing was recorded, send them again")
                }
            }
        }
        v1.get("hosts") { _, context -> Response in
            let who = try context.who()
            guard who.admin else { throw APIError.forbidden("only an admin agent (agents.NAME.admin: true) may list the hosts") }
            let hosts = try await Self.core { () throws(CoreError) in try await self.hosts.hosts() }
            let iso = ISO8601DateFormatter()
            func time(_ date: Date?) -> JSONValue { date.map { .string(iso.string(from: $0)) } ?? .null }
            let listed: [JSONValue] = hosts.map { (host, running) in
                ["id": .string(host.id), "state": .string(running ? "running" : "gone"), "pid": .int(Int(host.pid)), "kind": .string(host.kind), "config": .string(host.config),
                 "started_at": time(host.startedAt), "heartbeat_at": time(host.heartbeatAt), "revision": .string(host.revision),
                 "http": host.http.map { .string($0) } ?? .null, "reloads": .int(host.reloads),
                 "last_reload": host.lastReloadAt == nil ? .null : [
                    "at": time(host.lastReloadAt), "trigger": host.lastReloadTrigger.map { .string($0) } ?? .null,
                    "result": host.lastReloadResult.map { .string($0) } ?? .null, "message": host.lastReloadMessage.map { .string($0) } ?? .null,
                    "errors": .array((host.lastReloadErrors ?? []).map { .string($0) })]]
            }
            return HTTPFront.json(.ok, ["hosts": .array(listed)])
        }
        v1.get("agents") { _, context -> Response in
            let who = try context.who()
            let statuses = try await Self.core { () throws(CoreError) in try await self.events.agentReports() }
            let byName = Dictionary(statuses.map { ($0.agent, $0) }, uniquingKeysWith: { a, _ in a })
            let declared = who.snapshot.manifest.agents
            var names = declared.map(\.name)
            if who.admin { names += statuses.map(\.agent).filter { name in !declared.contains { $0.name == name } } }
            else { names = [who.agent] }
            let seen = self.lastSeen.value
            var agents: [JSONValue] = []
            for name in names {
                let config = declared.first { $0.name == name }
                let status = byName[name]
                let lastSeen = [status?.lastSeen, await self.events.lastEventTime(of: name), seen[name].map { TraceEvent.timestamp($0) }]
                    .compactMap { $0 }.max()
                agents.append([
                    "name": .string(name), "declared": .bool(config != nil), "role": config.map { .string($0.role) } ?? .null,
                    "group": config?.group.map { .string($0) } ?? .null, "admin": .bool(config?.admin ?? false),
                    "state": status?.state.map { .string($0) } ?? .null, "model": status?.model.map { .string($0) } ?? .null,
                    "session": status?.session.map { .string($0) } ?? .null, "last_seen": lastSeen.map { .string($0) } ?? .null,
                ])
            }
            return HTTPFront.json(.ok, ["agents": .array(agents)])
        }
    }

    /// Server-sent events of the trace store from `query` on, as `who` may see them: a page at a time
    /// from the store (a slow client loses nothing), then a wait on the recorder's signal, with a
    /// keep-alive comment. The API's `GET /v1/events/stream` and the console's live tail both use it.
    func eventStream(_ query: TraceQuery, _ who: APIIdentity) throws -> Response {
        let slot = try self.openStream(for: who.agent)
        let signal = self.state.parts.recorder.stored
        let keepAlive = who.snapshot.manifest.http.keepAlive.duration
        let api = self
        // How often an idle stream looks for events other processes recorded: a store that moves the
        // `events` mark with every write (PostgreSQL, announced by NOTIFY) is read again only when it
        // moved (and each second regardless); one without (SQLite) is read again each time.
        let changes = self.changes
        let recheck = changes.recheck(.events)
        let marked = !changes.mark(.events).isEmpty
        let start = query
        let body = ResponseBody { writer in
            defer { slot.release() }
            var query = start
            var quietSince = ContinuousClock.now
            var checkedAt = ContinuousClock.now
            var readAt = ContinuousClock.now
            var seenMark = changes.mark(.events)
            var mustRead = true
            try await writer.write(ByteBuffer(string: "retry: 2000\n: events after \(query.afterId)\n\n"))
            while !Task.isCancelled, !api.isStopping {
                let generation = signal.generation
                let mark = changes.mark(.events)
                if mark != seenMark {
                    seenMark = mark
                    mustRead = true
                }
                var page: [TraceEvent] = []
                if mustRead || !marked || ContinuousClock.now - readAt >= .seconds(1) {
                    page = try await api.events.page(query)
                    readAt = ContinuousClock.now
                    mustRead = false
                }
                // The key is checked again before every page and each idle second: a revoked key's
                // stream ends with a final `end` event that says why, and delivers nothing after it.
                if !page.isEmpty || ContinuousClock.now - checkedAt >= recheck {
                    checkedAt = ContinuousClock.now
                    if let reason = await who.recheck() {
                        let end: JSONValue = ["reason": .string(reason)]
                        try await writer.write(ByteBuffer(string: "event: end\ndata: \(end.jsonText)\n\n"))
                        break
                    }
                }
                if let last = page.last {
                    var text = ""
                    for event in page {
                        text += "id: \(event.id)\nevent: \(event.type)\ndata: \(event.json.jsonText)\n\n"
                    }
                    // Waits while the client is slow: the next page is read from the store, so nothing is dropped.
                    try await writer.write(ByteBuffer(string: text))
                    query.afterId = last.id
                    quietSince = ContinuousClock.now
                    mustRead = true  // a full page may have more behind it
                    continue
                }
                // The recorder's signal wakes the stream for this process's events; another process's
                // (an `agenthub mcp` beside this host, another host) by the mark, or the read each second.
                await signal.wait(since: generation, timeout: min(keepAlive, recheck))
                if signal.generation != generation { mustRead = true }
                if signal.generation == generation, !api.isStopping, ContinuousClock.now - quietSince >= keepAlive {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quietSince = ContinuousClock.now
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// The filters of `GET /v1/events` and the stream: `after` (or `Last-Event-ID`), `session`,
    /// `agent` (another agent's only for an admin) and `type` (comma-separated).
    static func eventQuery(_ request: Request, _ who: APIIdentity, cursorHeader: Bool) throws -> TraceQuery {
        let params = request.uri.queryParameters
        var query = TraceQuery()
        if let raw = params.get("after") {
            guard let n = Int64(raw), n >= 0 else { throw APIError.badRequest("after must be an event id (a whole number ≥ 0), found '\(raw)'") }
            query.afterId = n
        }
        if cursorHeader, let raw = request.headers[HeaderName("Last-Event-ID")!], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let n = Int64(raw.trimmingCharacters(in: .whitespaces)), n >= 0 else { throw APIError.badRequest("Last-Event-ID must be an event id, found '\(raw)'") }
            query.afterId = n
        }
        if let session = params.get("session") { query.session = TraceEvent.storedName(String(session)) }
        if let agent = params.get("agent") {
            guard who.admin || agent == who.agent else { throw APIError.forbidden("a key sees only its own agent's events; agent '\(who.agent)' is not an admin") }
            query.agent = String(agent)
        }
        if !who.admin { query.agent = who.agent }
        if let types = params.get("type") {
            query.types = types.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard query.types.count <= 20 else { throw APIError.badRequest("at most 20 types at once") }
        }
        return query
    }

    /// One reported event, checked: its kind, session, ids, state, clock and payload.
    static func reportedEvent(_ value: JSONValue, _ who: APIIdentity, label: String) throws -> TraceEvent {
        guard case .object(let o) = value else { throw APIError.badRequest("\(label) must be an object, got \(value.typeName)") }
        let known = ["type", "session_id", "trace_id", "span_id", "state", "client_ts", "payload", "tool"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.badRequest("\(label): unknown field \"\(unknown)\" (fields: \(known.joined(separator: ", ")))")
        }
        func string(_ key: String, required: Bool = false, max: Int = 256) throws -> String? {
            guard let v = o[key], v != .null else {
                if required { throw APIError.badRequest("\(label): \"\(key)\" is required") }
                return nil
            }
            guard case .string(let s) = v, !s.isEmpty, s.unicodeScalars.count <= max, !s.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw APIError.badRequest("\(label): \"\(key)\" must be a string of 1 to \(max) characters without control characters")
            }
            return s
        }
        let type = try string("type", required: true)!
        guard reportedTypes.contains(type) else {
            throw APIError.badRequest("\(label): type '\(TraceEvent.storedName(type))' is not one an agent reports (\(reportedTypes.joined(separator: ", ")))")
        }
        let session = try string("session_id", required: true)!
        let state = try string("state")
        if let state, !agentStates.contains(state) {
            throw APIError.badRequest("\(label): state must be one of \(agentStates.joined(separator: ", ")), found '\(TraceEvent.storedName(state))'")
        }
        let clientTs = try string("client_ts", max: 64)
        if let clientTs, !Self.isRFC3339(clientTs) {
            throw APIError.badRequest("\(label): client_ts must be an ISO 8601 time like 2026-12-02T10:00:00.000Z, found '\(clientTs)'")
        }
        var payload: JSONValue?
        if let p = o["payload"], p != .null {
            guard case .object = p else { throw APIError.badRequest("\(label): \"payload\" must be an object, got \(p.typeName)") }
            payload = TraceRedaction.forTrace(p, maxBytes: 16 * 1024)
        }
        if type == "model.switch", payload?["model"]?.stringValue == nil {
            throw APIError.badRequest("\(label): a model.switch event needs payload.model (a string)")
        }
        // Names are stored as the router stores them (capped in bytes, the cut marked), so filters match.
        var event = TraceEvent(at: TraceEvent.timestamp(), type: type, session: TraceEvent.storedName(session),
                               spanId: try string("span_id", max: 64) ?? TraceEvent.newSpanId(), agent: who.agent, role: who.caller.role,
                               group: who.caller.group, tool: TraceEvent.storedName(try string("tool") ?? ""), detail: payload)
        event.traceId = try string("trace_id", max: 64)
        event.state = state
        event.clientTs = clientTs
        event.revision = who.snapshot.revision
        return event
    }
}

extension HTTPAPI {
    /// An RFC 3339 date-time (`2026-12-02T10:00:00Z`, fractions and offsets allowed), as JSON
    /// Schema's `date-time` format has it. The agent's clock is recorded as sent, never interpreted.
    static func isRFC3339(_ text: String) -> Bool {
        text.range(of: #"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"#,
                   options: .regularExpression) != nil
    }
}
