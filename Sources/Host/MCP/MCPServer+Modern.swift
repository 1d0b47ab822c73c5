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
    public func adoptStateless(version: String, listening: Bool = false) {
        lock.withLock {
            phase = .initialized
            protocolVersion = version
            if listening {
                listedTools = true
                toolsListAnswered = true
            }
        }
        // Only a listen stream compares lists later; a one-request exchange never does.
        if listening { rememberLists() }
    }

    /// `server/discover`: the versions, capabilities and instructions, as `initialize` would give them.
    public func discoverResult() -> JSONValue {
        let caller = current.caller
        let role = caller.role.map { "role '\($0)'" } ?? "no role"
        return [
            "supportedVersions": .array((Self.modernVersions + MCPProtocol.versions).map { .string($0) }),
            "capabilities": [
                "tools": ["listChanged": true],
                "resources": ["listChanged": true, "subscribe": false],
                "prompts": ["listChanged": true],
            ],
            "instructions": .string("""
                AgentHub tools and skills for \(role). Tools run under the host's policy; every call is traced. \
                Each skill is a resource (skill://NAME is its SKILL.md, skill://NAME/PATH one of its files) and a prompt \
                named after it that loads its instructions; skills_search finds skills by topic.
                """),
        ]
    }

    /// The server's own name and version, stamped on every 2026-07-28 result.
    public var serverInfo: JSONValue { ["name": "agenthub", "version": .string(settings.serverVersion)] }
}
