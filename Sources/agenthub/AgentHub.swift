import ArgumentParser
import Base
import Core
import Foundation
import Host
import Logging
import Registry
import Synchronization

@main
struct AgentHub: AsyncParsableCommand {
    /// Hardens the process (non-dumpable, secrets scrubbed from its live environment) before
    /// anything runs; a mistyped subcommand gets a suggestion; usage errors exit 64.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The bridge's shim execs a server with exactly the environment the manifest gave it (a
        // token in its `env:` included): it must not scrub it, and exec resets what it would set.
        if arguments.first != ChildExecCommand.configuration.commandName { ProcessHardening.harden() }
        // A mistyped subcommand, at any depth, gets the closest name (ArgumentParser only says "unexpected argument").
        var command: any ParsableCommand.Type = AgentHub.self
        var path = ["agenthub"]
        for token in arguments {
            let subcommands = command.configuration.subcommands
            guard !token.hasPrefix("-"), token != "help", !subcommands.isEmpty else { break }
            guard let next = subcommands.first(where: { $0._commandName == token || $0.configuration.aliases.contains(token) }) else {
                let names = subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
                let hint = Suggestion.closest(to: token, in: names).map { " Did you mean '\($0)'?" } ?? ""
                Output.stderr("error: unknown command '\(path.joined(separator: " ")) \(token)'.\(hint)\nCommands: \(names.joined(separator: ", ")). See '\(path.joined(separator: " ")) --help'.")
                Foundation.exit(64)
            }
            command = next
            path.append(token)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand { try await asynchronous.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "agenthub",
        abstract: "A host for agent skills and tools, configured by one registry.yaml.",
        discussion: """
            Exit codes: 0 success; 1 a problem was found (invalid manifest, a failing skill, a failed \
            or held sync, nothing matched, a tool call failed); 2 policy blocked a tool call (or no such tool \
            exists); 64 the command line was wrong.
            """,
        version: AgentHubVersion.current,
        subcommands: [CheckCommand.self, SyncCommand.self, SourcesCommand.self, SkillsCommand.self, ToolsCommand.self, ExportCommand.self, MCPCommand.self, ServeCommand.self, ReloadCommand.self, StatusCommand.self, GitFetchWorkerCommand.self, RenderMarkdownCommand.self, ChildExecCommand.self, ServersCommand.self, KeysCommand.self, ApprovalsCommand.self, TasksCommand.self, SchemaCommand.self, DatabaseCommand.self, ClientCommand.self]
    )
}

/// Options every command that reads the manifest takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The manifest to use.")
    var config = "registry.yaml"

    @Flag(name: .long, help: "Print JSON for scripts instead of tables.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log debug messages to stderr.")
    var verbose = false

    /// The process's logger on stderr: notices and worse for one-shot commands; for a running host
    /// (`forHost`: serve, mcp) the manifest's `host.log_level` (default info: reloads, syncs,
    /// recoveries), read leniently so a broken manifest still logs. `--verbose` shows debug.
    func logger(forHost: Bool = false) -> Logger {
        var level = Logger.Level.notice
        if forHost {
            let text = (try? ManifestLoader.load(path: config))?.host.logLevel ?? "info"
            level = Logger.Level(rawValue: text) ?? .info
        }
        if verbose { level = .debug }
        GlobalOptions.bootstrapOnce.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = DeferredMetadataLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "agenthub")
    }

    /// swift-log takes one bootstrap per process.
    static let bootstrapOnce = Mutex(false)

    /// The processes and sources on the registry the manifest names, read-only, even when the
    /// manifest has problems (the hosts serve their last good one); or prints why not and exits 1.
    /// The CLI's composition root: the one place a command's services meet the registry.
    func hostDirectory() async throws -> (hosts: HostDirectory, sources: SourceDirectory) {
        do {
            let registry = try await HostContext.connectRegistry(configPath: config, logger: logger(), access: .readOnly)
            return (HostDirectory(registry: registry), SourceDirectory(store: registry))
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
    }

    /// Opens the manifest and registry, or prints why not and exits 1.
    /// `readOnly` for commands that only read the registry: they never wait on a writer.
    func context(readOnly: Bool = false, forHost: Bool = false) async throws -> HostContext {
        do { return try await HostContext.connect(configPath: config, logger: logger(forHost: forHost), access: readOnly ? .readOnly : .readWrite) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
    }
}
