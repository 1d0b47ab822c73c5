import Base
import Foundation
import Plugins

extension MCPServer {
    /// `initialize`: agree on a version, say what this server offers, and start the session.
    func initialize(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "initialize")
        let requested = try MCPProtocol.string(p, "protocolVersion", "initialize")
        if let info = p["clientInfo"], info.objectValue == nil {
            throw .invalidParams("initialize: \"clientInfo\" must be an object, got \(info.typeName)")
        }
        let client = p["clientInfo"]?["name"]?.stringValue
        let version = MCPProtocol.versions.contains(requested) ? requested : MCPProtocol.latest
        let fixedAgent = self.fixedAgent, elicits = Self.elicitsForms(p["capabilities"])
        let started = state.withLock { s -> ToolCaller? in
            guard s.phase == .awaitingInitialize else { return nil }
            s.phase = .initialized
            s.protocolVersion = version
            s.elicits = elicits
            s.clientCapabilities = p["capabilities"]
            if fixedAgent == nil, let client, !client.isEmpty { s.baseCaller.agent = "mcp:" + String(client.prefix(60)) }
            return s.baseCaller
        }
        guard let caller = started else { throw .invalidRequest("initialize was already received on this connection") }
        rememberLists()
        logger.info("MCP session started", metadata: [
            "host.mcp.client": "\(client ?? "-")", "host.mcp.protocol": "\(version)", "host.mcp.requested": "\(requested)",
            "host.agent": "\(caller.agent)", "host.role": "\(caller.role ?? "-")", "host.session": "\(session)"])
        var serverInfo: [String: JSONValue] = ["name": "agenthub", "version": .string(settings.serverVersion)]
        if MCPProtocol.hasStructuredTools(version) { serverInfo["title"] = "AgentHub" }
        return [
            "protocolVersion": .string(version),
            "capabilities": Self.capabilities,
            "serverInfo": .object(serverInfo),
            "instructions": .string(Self.instructions(for: caller)),
        ]
    }

    /// What this server offers, the same whatever the protocol version.
    static let capabilities: JSONValue = [
        "tools": ["listChanged": true],
        "resources": ["listChanged": true, "subscribe": false],
        "prompts": ["listChanged": true],
        "extensions": [.init(stringLiteral: skillsExtension): ["directoryRead": true], .init(stringLiteral: tasksExtension): [:]],
    ]

    /// How the client should use this server, for `caller`'s role.
    static func instructions(for caller: ToolCaller) -> String {
        let role = caller.role.map { "role '\($0)'" } ?? "no role"
        return """
            AgentHub tools and skills for \(role). Tools run under the host's policy; every call is traced. \
            Skills follow the Skills extension: skills/list and skills/get give each skill's entry, \
            skill://SOURCE/NAME/SKILL.md is its instructions and skill://SOURCE/NAME/PATH one of its files; \
            each skill is also a prompt named after it, and skills_search finds skills by topic.
            """
    }
}
