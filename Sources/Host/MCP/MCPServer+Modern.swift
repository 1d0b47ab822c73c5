import Base
import Foundation
import Plugins

/// The stateless 2026-07-28 revision: no handshake; every request carries its protocol version,
/// client info and capabilities in `params._meta`, and is answered on its own.
extension MCPServer {
    public static let modernVersions = ["2026-07-28"]
    public static let versionMetaKey = "io.modelcontextprotocol/protocolVersion"
    public static let clientInfoMetaKey = "io.modelcontextprotocol/clientInfo"
    public static let capabilitiesMetaKey = "io.modelcontextprotocol/clientCapabilities"
    public static let serverInfoMetaKey = "io.modelcontextprotocol/serverInfo"
    public static let subscriptionMetaKey = "io.modelcontextprotocol/subscriptionId"
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
            if listening {
                s.listedTools = true
                s.toolsListAnswered = true
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
