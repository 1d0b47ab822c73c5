import Base
import Core
import Foundation
import Host
import Hummingbird
import Logging
import Plugins
import Registry

/// What the API routes share: the running host, the keys, the core services, and the limits' state
/// (rate buckets, open streams, MCP sessions, syncs started over HTTP).
///
/// The HTTP front's composition root: the one file of the front that names the registry. It builds
/// the core services on it; every route and page asks those services, never the database.
final class HTTPAPI: Sendable {
    let runtime: HostRuntime
    let keys: APIKeys
    let logger: Logger
    /// Where the listener is: a browser `Origin` naming it (or localhost on its port) is allowed.
    let listen: LockedValue<(host: String, port: Int)>
    let limiter = RateLimiter()
    /// Reported events per agent (`http.ingest_rate`), one token per event.
    let ingestLimiter = RateLimiter()
    /// Open streams, in all and per agent.
    let openStreams = LockedValue<(all: Int, byAgent: [String: Int])>((0, [:]))
    let lastSeen = LockedValue<[String: Date]>([:])
    let syncRuns = SyncRuns()
    let sessions: MCPSessions
    /// Where console sign-ins are kept (the registry, so every host knows them).
    let consoleSessions: ConsoleSessions
    /// Skill answers, until the registry's skills change.
    let answers: AnswerCache
    private let environmentKeys = LockedValue<(revision: String, keys: [Data: String])>(("", [:]))
    private let stopping = LockedValue(false)

    /// The wall clock: key expiry, console sessions, last seen. Injected so tests move time instead of sleeping.
    let now: @Sendable () -> Date

    init(runtime: HostRuntime, keys: APIKeys, listen: (host: String, port: Int), logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.runtime = runtime
        self.now = now
        self.keys = keys
        self.listen = LockedValue(listen)
        self.logger = logger
        sessions = MCPSessions(state: runtime.state, logger: logger)
        consoleSessions = ConsoleSessions(store: runtime.state.registry, changes: runtime.state.registry.changes)
        answers = AnswerCache(feed: runtime.state.registry.changes)
    }

    var state: HostState { runtime.state }

    /// Whether the host is shutting down: streams end, sessions are closed.
    var isStopping: Bool { stopping.value }

    /// Ends every event stream and MCP session (graceful shutdown: the listener waits for them).
    func stop() {
        stopping.value = true
        state.parts.approvals.hostStopping()
        state.parts.recorder.stored.fire()
        sessions.closeAll()
    }
    /// The skills each key's role is served, decided in the core.
    var catalog: SkillCatalog { SkillCatalog(store: runtime.state.registry) }
    /// The sources with their status, derived in the core.
    var directory: SourceDirectory { SourceDirectory(store: runtime.state.registry) }
    /// The event log: traces and what agents report.
    var events: EventLog { EventLog(store: runtime.state.registry) }
    /// The processes on this registry (who holds a port, who else serves).
    var hosts: HostDirectory { HostDirectory(registry: runtime.state.registry) }
    /// What changed in the store, as every process sees it.
    var changes: any ChangeFeed { runtime.state.registry.changes }
    /// Approval requests and grants: listing, answering, revoking.
    var desk: ApprovalDesk { runtime.state.parts.approvals }

    /// The identity a request's key stands for, under the snapshot as of now.
    func identify(_ request: Request) async throws -> APIIdentity {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("no API key: send Authorization: Bearer ah_… (agenthub keys create --agent NAME makes one)")
        }
        guard let key = Self.bearerKey(header) else {
            throw APIError.unauthorized("the Authorization header must be Bearer KEY")
        }
        return try await identify(key: key)
    }

    /// The key of `Bearer KEY` (the scheme in any case, blanks around the key ignored), over bytes.
    static func bearerKey(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count, bytes[scheme.count] == 0x20,
              zip(bytes, scheme).allSatisfy({ ($0 | 0x20) == $1 }) else { return nil }
        var start = scheme.count + 1, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The identity a key stands for, under the snapshot as of now.
    func identify(key: String) async throws -> APIIdentity {
        let snapshot = state.snapshot
        let verdict = await keys.check(key, environmentKeys: environmentKeys(of: snapshot), now: now())
        return try identity(verdict, snapshot: snapshot) { [weak self] in try await self?.identify(key: key) }
    }

    /// The identity of a key known by its hash (a console session keeps only that, so a revoked or
    /// expired key ends its sessions at their next request).
    func identify(keyHash: Data) async throws -> APIIdentity {
        let snapshot = state.snapshot
        let verdict = await keys.check(hash: keyHash, environmentKeys: environmentKeys(of: snapshot), now: now())
        return try identity(verdict, snapshot: snapshot) { [weak self] in try await self?.identify(keyHash: keyHash) }
    }

    /// What a key's verdict makes of its caller under `snapshot`; `again` checks the key anew (nil: the host stopped).
    private func identity(_ verdict: APIKeys.Verdict, snapshot: HostSnapshot, again: @escaping @Sendable () async throws -> APIIdentity?) throws -> APIIdentity {
        switch verdict {
        case .refused(let why):
            throw APIError.unauthorized(why)
        case .unavailable(let why):
            throw APIError.unavailable(why)
        case .agent(let agent, let keyId):
            guard let declared = snapshot.manifest.agents.first(where: { $0.name == agent }) else {
                throw APIError.unauthorized("the key's agent '\(agent)' is no longer declared in agents:")
            }
            let caller: ToolCaller
            do { caller = try snapshot.tools.identity.caller(agent: agent, role: nil, group: nil) } catch {
                throw APIError.unauthorized("the key's agent '\(agent)' does not fit the manifest: \(error.message)")
            }
            let seenAt = now()
            lastSeen.mutate { $0[agent] = seenAt }
            var identity = APIIdentity(agent: agent, keyId: keyId == "env" ? "env:\(agent)" : keyId, caller: caller, admin: declared.admin, snapshot: snapshot)
            identity.recheck = {
                do {
                    guard let now = try await again() else { return "the host stopped" }
                    return now.agent == agent ? nil : "the key now stands for another agent"
                } catch let error as APIError { return error.message } catch { return "\(error)" }
            }
            return identity
        }
    }

    /// The hashes of `agents.NAME.key_env` keys, computed once per manifest revision.
    private func environmentKeys(of snapshot: HostSnapshot) -> [Data: String] {
        let cached = environmentKeys.value
        if cached.revision == snapshot.revision { return cached.keys }
        let computed = keys.environmentKeys(snapshot.manifest, environment: runtime.context.environment)
        environmentKeys.value = (snapshot.revision, computed)
        return computed
    }

    /// Whether a browser `Origin` may call: the host's own address, localhost on its port, or one of
    /// `http.allowed_origins`. A request without `Origin` (not from a browser) passes.
    func originAllowed(_ origin: String, settings: HTTPSettings) -> Bool {
        if origin == "null" { return false }
        if settings.allowedOrigins.contains(origin) { return true }
        guard let url = URL(string: origin), let host = url.host?.lowercased() else { return false }
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let local = ["localhost", "127.0.0.1", "::1", "[::1]"]
        let listen = self.listen.value
        return port == listen.port && (host == listen.host.lowercased() || local.contains(host))
    }

    /// Spends a failed key check from `address`'s bucket, so guessing keys is throttled (the API and
    /// the console's sign-in share it); the seconds to wait once the bucket is empty.
    func admitFailedKey(from address: String, _ settings: HTTPSettings) -> Int? {
        limiter.admit("ip:" + address, rate: settings.rateLimit, burst: settings.rateBurst)
    }

    /// Takes a slot of `http.max_streams` and of the agent's `http.max_streams_per_agent`, or throws 503.
    func openStream(for agent: String) throws -> StreamSlot {
        let limits = state.snapshot.manifest.http
        let refusal = openStreams.mutate { open -> String? in
            if open.all >= limits.maxStreams { return "\(limits.maxStreams) streams are open (http.max_streams)" }
            if open.byAgent[agent, default: 0] >= limits.maxStreamsPerAgent {
                return "agent '\(agent)' has \(limits.maxStreamsPerAgent) streams open (http.max_streams_per_agent)"
            }
            open.all += 1
            open.byAgent[agent, default: 0] += 1
            return nil
        }
        if let refusal { throw APIError.unavailable("\(refusal); close one or try again later") }
        return StreamSlot(counter: openStreams, agent: agent)
    }

    /// The request body, at most `http.max_body_bytes` (413 beyond).
    func body(_ request: inout Request) async throws -> ByteBuffer {
        let limit = state.snapshot.manifest.http.maxBodyBytes
        do { return try await request.collectBody(upTo: limit) } catch {
            throw APIError(.contentTooLarge, "too_large", "the request body is over \(limit) bytes (http.max_body_bytes)")
        }
    }

    /// The body as JSON (an empty body is `empty`).
    func json(_ request: inout Request, empty: JSONValue? = nil) async throws -> JSONValue {
        let buffer = try await body(&request)
        if buffer.readableBytes == 0, let empty { return empty }
        do throws(JSONParseError) { return try JSONParser.parse(buffer.readableBytesView) } catch {
            throw APIError.badRequest("the body is not JSON: \(error.description)")
        }
    }
}

/// One open stream's slot of `http.max_streams` (and of its agent's share), given back when released.
final class StreamSlot: Sendable {
    private let counter: LockedValue<(all: Int, byAgent: [String: Int])>
    private let agent: String
    private let released = LockedValue(false)
    init(counter: LockedValue<(all: Int, byAgent: [String: Int])>, agent: String) {
        self.counter = counter
        self.agent = agent
    }
    func release() {
        let first = released.mutate { done -> Bool in defer { done = true }; return !done }
        guard first else { return }
        counter.mutate { open in
            open.all -= 1
            open.byAgent[agent, default: 1] -= 1
            if open.byAgent[agent] == 0 { open.byAgent[agent] = nil }
        }
    }
    deinit { release() }
}

/// Checks every `/v1` and `/mcp` request: the browser origin, the key, and the key's rate.
struct APIGate: RouterMiddleware {
    typealias Context = APIContext
    let api: HTTPAPI

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let settings = api.state.snapshot.manifest.http
        if let origin = request.headers[.origin], !api.originAllowed(origin, settings: settings) {
            throw APIError.forbidden("origin \(origin) may not call this host (http.allowed_origins)")
        }
        var context = context
        let identity: APIIdentity
        do { identity = try await api.identify(request) } catch let error as APIError where error.status == .unauthorized {
            if let wait = api.admitFailedKey(from: context.remoteIP, settings) {
                throw APIError(.tooManyRequests, "rate_limited", "too many requests with no valid key from this address; retry after \(wait) s",
                               headers: [.retryAfter: "\(wait)"])
            }
            throw error
        }
        if let wait = api.limiter.admit(identity.keyId, rate: settings.rateLimit, burst: settings.rateBurst) {
            throw APIError.tooManyRequests(retryAfter: wait)
        }
        context.identity = identity
        return try await next(request, context)
    }
}
