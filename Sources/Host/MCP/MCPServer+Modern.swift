import Base
import Foundation
import Plugins

/// The stateless 2026-07-28 revision: no handshake; every request carries its protocol version,
/// client info and capabilities in `params._meta`, and is answered on its own.
extension MCPServer {
    public static let modernVersions = [MCPEnvelope.version]
    /// JSON-RPC codes of the revision: headers that disagree with the body, an unsupported version.
    public static let headerMismatchCode = -32020
    public static let unsupportedVersionCode = -32022

    /// Puts this server past the handshake at a 2026-07-28 `version`, for requests that each carry
    /// their own envelope. `listening`: a `subscriptions/listen` stream, which reports changes from
    /// now on (what the client is assumed to know is what the lists are now).
    public func adoptStateless(version: String, listening: Bool = false, capabilities: JSONValue? = nil) {
        state.withLock { s in
            s.phase = .initialized
            s.protocolVersion = version
            s.stateless = true
            s.elicits = Self.elicitsForms(capabilities)
            s.clientCapabilities = capabilities
            if listening {
                s.listedTools = true
                s.toolsListAnswered = true
                s.relaysChanges = true
            }
        }
        // Only a listen stream compares lists later; a one-request exchange never does.
        if listening { rememberLists() }
    }

    /// Takes up a session whose `initialize` another host answered (a load balancer sent this
    /// request here): initialized at the version agreed then, with the client's capabilities; the
    /// client is taken to have listed what it needs, so later changes reach it as `list_changed`.
    public func resume(version: String, capabilities: JSONValue?) {
        state.withLock { s in
            s.phase = .initialized
            s.protocolVersion = version
            s.elicits = Self.elicitsForms(capabilities)
            s.clientCapabilities = capabilities
            s.listedTools = true
            s.toolsListAnswered = true
        }
        rememberLists()
    }

    /// `server/discover`: the versions, capabilities and instructions, as `initialize` would give them.
    public func discoverResult() -> JSONValue {
        [
            "supportedVersions": .array(Self.supportedVersions.map { .string($0) }),
            "capabilities": Self.capabilities,
            "instructions": .string(Self.instructions(for: current.caller)),
        ]
    }

    /// Every version this server speaks: the stateless revision first, then the handshake ones.
    public static var supportedVersions: [String] { modernVersions + MCPProtocol.versions }

    /// The server's own name and version, stamped on every 2026-07-28 result.
    public var serverInfo: JSONValue { ["name": "agenthub", "version": .string(settings.serverVersion)] }
}

/// 2026-07-28 on one connection (stdio): no handshake; each request carries its version and the
/// client's capabilities in `_meta` and is answered on its own, stamped as the revision says. A
/// connection that completed the 2025 handshake stays in it; `subscriptions/listen` is the one
/// request left open, and the list changes it asked for are sent tagged with its id.
extension MCPServer {
    /// The envelope's shape: its version, or why it is malformed (whether the version is spoken is the caller's question).
    public static func modernEnvelope(_ params: JSONValue?) -> Result<String, JSONRPCError> {
        guard case .object(let meta)? = params?["_meta"] else {
            return .failure(.invalidParams("params._meta must be an object carrying '\(MCPEnvelope.versionKey)' and '\(MCPEnvelope.capabilitiesKey)'"))
        }
        let missing = [MCPEnvelope.versionKey, MCPEnvelope.capabilitiesKey].filter { meta[$0] == nil }
        if !missing.isEmpty { return .failure(.invalidParams("params._meta is missing \(missing.joined(separator: ", "))")) }
        guard case .string(let version)? = meta[MCPEnvelope.versionKey] else {
            return .failure(.invalidParams("params._meta['\(MCPEnvelope.versionKey)'] must be a string"))
        }
        return .success(version)
    }

    /// The error for a version this server does not speak, naming the ones it does (`supported`).
    public static func unsupported(_ version: String, supported: [String]) -> JSONRPCError {
        JSONRPCError(unsupportedVersionCode, "Unsupported protocol version '\(version)'",
                     data: ["supported": .array(supported.map { .string($0) }), "requested": .string(version)])
    }

    /// Lists a 2026-07-28 client may cache (`ttlMs`, `cacheScope`).
    public static let cacheableMethods: Set<String> = ["server/discover", "tools/list", "resources/list", "resources/templates/list", "prompts/list",
                                                          "skills/list", "skills/get"]

    /// A result as the revision wants it: `resultType`, the server's info, and cache hints on lists.
    public static func stamped(_ result: JSONValue, method: String, serverInfo: JSONValue) -> JSONValue {
        guard case .object(var fields) = result else { return result }
        if fields["resultType"] == nil { fields["resultType"] = "complete" }
        var meta = fields["_meta"]?.objectValue ?? [:]
        meta[MCPEnvelope.serverInfoKey] = serverInfo
        fields["_meta"] = .object(meta)
        if cacheableMethods.contains(method) {
            if fields["ttlMs"] == nil { fields["ttlMs"] = 0 }
            if fields["cacheScope"] == nil { fields["cacheScope"] = "private" }
        }
        return .object(fields)
    }

    /// A 2026-07-28 request on this connection. `server/discover` is answered whatever the era (a
    /// client probes with it, then may still send `initialize`); the first other request with an
    /// envelope puts the connection in 2026-07-28.
    func handleModern(_ id: JSONRPCID, _ method: String, _ params: JSONValue?, bytes: Int) {
        if method == "server/discover" {
            if case .success(let version) = Self.modernEnvelope(params), !Self.modernVersions.contains(version) {
                send(.error(id: id, Self.unsupported(version, supported: Self.supportedVersions)))
            } else {
                send(.response(id: id, result: Self.stamped(discoverResult(), method: method, serverInfo: serverInfo)))
            }
            return
        }
        let version: String
        switch Self.modernEnvelope(params) {
        case .failure(let error): send(.error(id: id, error)); return
        case .success(let v): version = v
        }
        // A client that asks for another version may still fall back to the handshake: all are named.
        guard Self.modernVersions.contains(version) else { send(.error(id: id, Self.unsupported(version, supported: Self.supportedVersions))); return }
        let capabilities = params?["_meta"]?[MCPEnvelope.capabilitiesKey]
        let (handshaken, adopted) = state.withLock { s -> (Bool, Bool) in
            guard s.phase == .awaitingInitialize else { return (!s.stateless, false) }
            s.phase = .initialized
            s.protocolVersion = version
            s.stateless = true
            s.elicits = Self.elicitsForms(capabilities)
            s.clientCapabilities = capabilities
            // What the client may list from now on is what the lists are now: only changes are news.
            s.listedTools = true
            s.toolsListAnswered = true
            return (false, true)
        }
        if handshaken {
            let agreed = state.withLock { s in s.protocolVersion }
            send(.error(id: id, .invalidRequest("this connection completed the initialize handshake (protocol \(agreed)); send requests without the \(version) envelope")))
            return
        }
        if adopted { rememberLists() }
        let serverInfo = self.serverInfo
        switch method {
        case "initialize":
            send(.error(id: id, .invalidRequest("initialize is not part of protocol \(version): send requests with their _meta envelope, or initialize without one")))
            return
        case "subscriptions/listen":
            Self.$requestCapabilities.withValue(capabilities ?? [:]) { listen(id, params) }
            return
        default: break
        }
        guard let handler = handler(for: method, params) else { send(.error(id: id, .methodNotFound(method))); return }
        let elicits = Self.elicitsForms(capabilities)
        start(id, bytes: bytes) { () async throws(JSONRPCError) -> JSONValue in
            let result: Result<JSONValue, JSONRPCError> = await Self.$requestCapabilities.withValue(capabilities ?? [:]) {
                await Self.$requestElicits.withValue(elicits) {
                    do throws(JSONRPCError) { return .success(try await handler()) } catch { return .failure(error) }
                }
            }
            return Self.stamped(try result.get(), method: method, serverInfo: serverInfo)
        }
    }

    /// `subscriptions/listen`: acknowledged with the kinds and tasks honored; the request stays open
    /// (answered when the server stops; a client that leaves cancels it) and each change of a kind
    /// asked for, and each change of a task asked for, is sent tagged with its id. A new listen
    /// replaces the previous one.
    func listen(_ id: JSONRPCID, _ params: JSONValue?) {
        let asked = params?["notifications"]?.objectValue ?? [:]
        let kinds = Set(["toolsListChanged", "promptsListChanged", "resourcesListChanged"].filter { asked[$0] == .bool(true) })
        let taskIds: [String]?
        do throws(JSONRPCError) { taskIds = try askedTaskIds(params) } catch { send(.error(id: id, error)); return }
        let (previous, previousWatch) = state.withLock { s -> (JSONRPCID?, Task<Void, Never>?) in
            defer { s.subscription = (id, kinds); s.taskWatch = nil }
            return (s.subscription?.id, s.taskWatch)
        }
        previousWatch?.cancel()
        if let previous { send(.response(id: previous, result: ["resultType": "complete", "_meta": [MCPEnvelope.subscriptionKey: previous.json]])) }
        let tag: JSONValue = [MCPEnvelope.subscriptionKey: id.json]
        let acknowledge: @Sendable ([String]?) -> Void = { [send] agreed in
            var honored = Dictionary(uniqueKeysWithValues: kinds.map { ($0, JSONValue.bool(true)) })
            if let agreed { honored["taskIds"] = .array(agreed.map { .string($0) }) }
            send(.notification(method: "notifications/subscriptions/acknowledged", params: ["notifications": .object(honored), "_meta": tag]))
        }
        guard let taskIds else { acknowledge(nil); return }
        Task { [weak self] in await self?.watchTasks(taskIds, tag: tag, subscription: id, acknowledge: acknowledge) }
    }

    /// Ends an open subscription with its result (the server stops).
    func endSubscription() {
        let (id, watch) = state.withLock { s -> (JSONRPCID?, Task<Void, Never>?) in
            defer { s.subscription = nil; s.taskWatch = nil }
            return (s.subscription?.id, s.taskWatch)
        }
        watch?.cancel()
        guard let id else { return }
        send(.response(id: id, result: ["resultType": "complete", "_meta": [MCPEnvelope.subscriptionKey: id.json]]))
    }

    /// Tells the client a list changed: as is in a handshake session; on a 2026-07-28 connection
    /// only on its subscription, and only the kinds it asked for.
    func tellListChanged(_ method: String) {
        let route = state.withLock { s -> (untagged: Bool, subscription: (id: JSONRPCID, kinds: Set<String>)?) in
            (!s.stateless || s.relaysChanges, s.subscription)
        }
        guard !route.untagged else { send(.notification(method: method, params: nil)); return }
        let kind: String = switch method {
        case "notifications/tools/list_changed": "toolsListChanged"
        case "notifications/prompts/list_changed": "promptsListChanged"
        default: "resourcesListChanged"
        }
        guard let subscription = route.subscription, subscription.kinds.contains(kind) else { return }
        send(.notification(method: method, params: ["_meta": [MCPEnvelope.subscriptionKey: subscription.id.json]]))
    }
}
