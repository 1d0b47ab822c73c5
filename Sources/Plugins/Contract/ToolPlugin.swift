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
    /// Whether its calls block a thread (SQLite, the file system): the router runs those on threads of
    /// their own, off the cooperative pool. A plugin that only awaits (the MCP bridge) says false and
    /// saves the hop. Default: true.
    var blocksThreads: Bool { get }
}

extension ToolPlugin {
    public var blocksThreads: Bool { true }
}

/// A plugin with background work: the host starts it before serving and stops it on shutdown.
public protocol ToolPluginLifecycle: ToolPlugin {
    func start() async throws
    func stop() async
}

/// A plugin whose tools change while the host runs (the MCP bridge: servers start, restart and
/// change their tool lists). The router re-reads `tools` when told and tells the fronts.
public protocol ChangingToolPlugin: ToolPlugin {
    /// Registers `handler`, called after `tools` changed; the token removes it.
    @discardableResult
    func onToolsChanged(_ handler: @escaping @Sendable () -> Void) -> Int
    /// Removes a handler (a router of a snapshot that a reload replaced, going away).
    func removeToolsChangedHandler(_ token: Int)
    /// Returns once the tools have settled (every server ready or failed), or after `timeout`.
    func settle(timeout: Duration) async
    /// Re-reads what another process may have changed (an accepted tool definition), returning once
    /// the plugin's tools reflect it.
    func refresh() async
}
