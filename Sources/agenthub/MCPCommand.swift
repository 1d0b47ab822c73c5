import ArgumentParser
import Dispatch
import Foundation
import Host
import Plugins
import ServiceLifecycle

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve MCP over stdin/stdout to one client (Claude Desktop, Claude Code, any MCP client).",
        discussion: """
            The client sees the tools, skills (the Skills extension: skills/list, skill://SOURCE/NAME/SKILL.md resources, and prompts) its role may use. \
            Give the role with --role, or name an agent that agents: in the manifest binds to a role. \
            Without --agent, traces and memories belong to the agent mcp:<client name>. Logs go to stderr; \
            stdout carries only protocol messages. The manifest is reloaded live when it changes (or on SIGHUP, \
            or agenthub reload): the client gets list_changed for what its role now sees. Exits 0 when stdin \
            closes or on SIGTERM.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The client's role (from roles: in the manifest).")
    var role: String?

    @Option(name: .long, help: "The client's group (its role must be a member).")
    var group: String?

    @Option(name: .long, help: "The agent id for traces and memories (an agents: entry supplies its role and group).")
    var agent: String?

    @Option(name: .long, help: "Largest message line accepted, in bytes (default: mcp.max_message_bytes, 16 MiB).")
    var maxMessageBytes: Int?

    @Flag(name: .long, help: "Do not sync sources in the background (at start and on their interval).")
    var noSync = false

    func run() async throws {
        let context = try await global.context(forHost: true)
        let runtime: HostRuntime
        do { runtime = try HostRuntime(context: context, configPath: global.config, kind: "mcp", syncing: !noSync) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        let identity = MCPStdioService.Identity(agent: agent, role: role, group: group)
        let caller: ToolCaller
        do { caller = try runtime.state.snapshot.tools.identity.caller(agent: agent ?? "mcp", role: role, group: group) } catch {
            Output.fail(error)
            throw ExitCode(64)
        }
        guard caller.role != nil else {
            Output.stderr("error: agenthub mcp needs a role: pass --role (roles: \(context.manifest.roles.map(\.name).joined(separator: ", "))) or an --agent that agents: binds to one")
            throw ExitCode(64)
        }
        if agent == nil {
            // Said at every start: the agent id is what private memories and traces belong to.
            Output.stderr("warning: no --agent: this client's private memories and traces belong to mcp:<the name the client reports>, which any other client reporting the same name shares; pass --agent (an agents: entry fixes its role and group)")
        }
        if let maxMessageBytes, maxMessageBytes < 1024 {
            Output.stderr("error: --max-message-bytes must be at least 1024")
            throw ExitCode(64)
        }
        var options = MCPStdio.Options()
        options.maxMessageBytes = maxMessageBytes ?? context.manifest.mcp.maxMessageBytes
        options.server.pageSize = context.manifest.mcp.pageSize
        if let wait = context.manifest.plugins.mcp?.shared.startupWait { options.server.startupWait = wait }
        // The same services as agenthub serve, with the stdio front instead of HTTP; EOF ends the group.
        let front = MCPStdioService(state: runtime.state, identity: identity, options: options, logger: context.logger)
        try await runtime.run(fronts: [.init(service: front, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "mcp-stdio")],
                              shutdownLimit: .seconds(5))
    }
}
