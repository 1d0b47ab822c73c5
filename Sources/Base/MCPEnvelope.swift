/// The names of the stateless 2026-07-28 revision that both ends use: the `params._meta` keys a
/// request's envelope carries (AgentHub's server reads them; its bridge writes them) and the params
/// field each named method mirrors in the `Mcp-Name` header.
public enum MCPEnvelope {
    public static let version = "2026-07-28"
    public static let versionKey = "io.modelcontextprotocol/protocolVersion"
    public static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    public static let capabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    public static let serverInfoKey = "io.modelcontextprotocol/serverInfo"
    public static let subscriptionKey = "io.modelcontextprotocol/subscriptionId"
    public static let namedParams = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri",
                                     "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId"]
}
