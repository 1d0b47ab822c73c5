import Hummingbird
import NIOCore
import Host
import Plugins

/// Who made a request, from its key: the agent, its caller under the snapshot the request runs
/// under, and whether the agent is an admin.
struct APIIdentity: Sendable {
    let agent: String
    let keyId: String
    let caller: ToolCaller
    let admin: Bool
    let snapshot: HostSnapshot
    /// Checks the key again as of now: nil while it still stands for this agent, else why not
    /// (revoked, expired, its agent gone). Long streams call it while they run.
    var recheck: @Sendable () async -> String? = { nil }
}

/// The request context of every route: Hummingbird's core, and the identity the gate found.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: APIIdentity?
    /// The console's session, for pages behind its gate; and the form the gate read and checked.
    var console: ConsoleSession?
    var form: [String: String] = [:]
    /// The client's address, for the limit on failed key checks.
    let remoteIP: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The body cap is enforced by each route from the live manifest (`http.max_body_bytes`).
    var maxUploadSize: Int { 1 << 30 }

    /// The identity, for routes behind the gate.
    func who() throws -> APIIdentity {
        guard let identity else { throw APIError.unauthorized("this route needs an API key (Authorization: Bearer ah_…)") }
        return identity
    }
}
