import Base

/// A built-in plugin: a name, the tools it offers, and a call. Plugins are enabled and configured
/// by the manifest's `plugins:` section and reached only through the tool router, which has already
/// checked policy and validated the arguments against the tool's input schema when `call` runs.
public protocol ToolPlugin: Sendable {
    /// The plugin's name: its key under `plugins:` in the manifest.
    var name: String { get }
    /// The tools it offers. Names are unique across plugins.
    var tools: [ToolDescriptor] { get }
    /// Runs one tool. A `ToolError` becomes an error result that the caller sees; the plugin should
    /// check `context.checkCancellation()` between steps of long work.
    func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult
}

/// A plugin with background work: the host starts it before serving and stops it on shutdown.
public protocol ToolPluginLifecycle: ToolPlugin {
    func start() async throws
    func stop() async
}
