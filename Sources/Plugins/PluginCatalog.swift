/// The built-in plugins and the tools each offers. The manifest's `plugins:` keys are these names;
/// the tool router (a later issue) dispatches to them.
public enum PluginCatalog {
    public struct Entry: Sendable, Equatable {
        public let plugin: String
        public let tools: [String]
        /// Tools that exist only as high-risk tools (blocked unless a rule allows them by exact name).
        public let highRiskTools: [String]
    }

    public static let builtin: [Entry] = [
        Entry(plugin: "file", tools: ["read_file", "list_files", "write_file"], highRiskTools: ["write_file"]),
        Entry(plugin: "memory", tools: ["memory_write", "memory_get", "memory_search", "memory_delete"], highRiskTools: []),
        Entry(plugin: "export", tools: ["export_trace"], highRiskTools: []),
        Entry(plugin: "skills", tools: ["skills_search", "skills_get"], highRiskTools: []),
        Entry(plugin: "mcp", tools: [], highRiskTools: []),
    ]

    public static var pluginNames: [String] { builtin.map(\.plugin) }

    /// Whether a tool name is one clients accept: 1-64 of `[A-Za-z0-9_-]`.
    public static func isValidToolName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
