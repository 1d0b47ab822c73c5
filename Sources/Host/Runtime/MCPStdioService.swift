import Foundation
import Logging
import Plugins
import ServiceLifecycle

/// The MCP stdio front as a service: one client on stdin/stdout, its session following every
/// reload (the next call runs under the new snapshot; the client gets `list_changed` for lists that
/// changed; if its role is gone it is told and its calls are refused). It returns at EOF, which
/// ends the group (`successTerminationBehavior: .gracefullyShutdownGroup`).
public struct MCPStdioService: Service {
    /// Who the client is, as the command line said (recomputed against every reloaded manifest).
    public struct Identity: Sendable {
        public var agent: String?
        public var role: String?
        public var group: String?
        public init(agent: String?, role: String?, group: String?) {
            self.agent = agent
            self.role = role
            self.group = group
        }
    }

    let state: HostState
    let identity: Identity
    let options: MCPStdio.Options
    let logger: Logger

    public init(state: HostState, identity: Identity, options: MCPStdio.Options, logger: Logger) {
        self.state = state
        self.identity = identity
        self.options = options
        self.logger = logger
    }

    /// The caller `identity` makes under `snapshot`'s manifest.
    static func caller(_ identity: Identity, in snapshot: HostSnapshot) throws(HostError) -> ToolCaller {
        try snapshot.tools.identity.caller(agent: identity.agent ?? "mcp", role: identity.role, group: identity.group)
    }

    public func run() async throws {
        let snapshot = state.snapshot
        let caller = try Self.caller(identity, in: snapshot)
        let identity = self.identity
        let state = self.state
        await MCPStdio.serve(host: snapshot.tools, registry: state.registry, caller: caller, agentFromClient: identity.agent == nil,
                             options: options, logger: logger) { server in
            state.watch { [weak server] _, new in
                guard let server else { return }
                do throws(HostError) {
                    server.replace(host: new.tools, caller: try Self.caller(identity, in: new))
                } catch {
                    server.revoke(host: new.tools, reason: "this session's identity no longer fits the manifest (revision \(new.revision)): \(error.message)")
                }
            }
            // Once sources are declared and servers applied (a removed source's skills are gone): look again.
            state.observe { [weak server] _, _ in server?.listsMayHaveChanged() }
        }
    }
}
