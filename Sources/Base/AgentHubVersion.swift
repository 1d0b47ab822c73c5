/// This build's version: `agenthub --version`, the MCP server's and client's `serverInfo`/`clientInfo`.
public enum AgentHubVersion {
    public static let current = "0.1.0"
}
