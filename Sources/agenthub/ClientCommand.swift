import ArgumentParser
import Base
import Children
import Foundation
import Host

/// `agenthub client setup CLIENT`: AgentHub in a client's MCP configuration.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Configure MCP clients to use this host.",
        subcommands: [Setup.self]
    )

    struct Setup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write this host into a client's MCP configuration (claude-desktop, claude-code, cursor, codex, vscode).",
            discussion: """
                Over stdio the client runs `agenthub mcp` with this manifest as --agent (and --role when the agent is not \
                in agents:). With --http it reaches `agenthub serve` at URL with a key (--key, or a new one made for the \
                agent). The entry is added or replaced; every other entry of the file is kept, and the old file is kept \
                as FILE.agenthub-backup. --print shows the new file instead of writing it.
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "claude-desktop, claude-code, cursor, codex or vscode.") var client: String
        @Option(name: .long, help: "The agent the client acts as (default: the client's name).") var agent: String?
        @Option(name: .long, help: "Its role, when the agent is not declared in agents:.") var role: String?
        @Option(name: .long, help: "Reach `agenthub serve` at this URL (http://HOST:PORT) instead of running `agenthub mcp`.") var http: String?
        @Option(name: .long, help: "The key for --http (default: a new key for the agent).") var key: String?
        @Option(name: .long, help: "The entry's name in the client's configuration.") var name = "agenthub"
        @Option(name: .long, help: "The configuration file (default: the client's own).") var file: String?
        @Flag(name: .long, help: "Print the new configuration instead of writing it.") var print = false

        func run() async throws {
            guard let kind = MCPClientKind(rawValue: client) else {
                Output.stderr("error: no client '\(client)': \(MCPClientKind.allCases.map(\.rawValue).joined(separator: ", "))")
                throw ExitCode(64)
            }
            let here = FileManager.default.currentDirectoryPath
            let manifestPath = PathText.resolve(global.config, against: here)
            let manifest: Manifest
            do { manifest = try ManifestLoader.load(path: manifestPath) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            let agent = self.agent ?? kind.rawValue
            let declared = manifest.agents.contains { $0.name == agent }
            let transport: ClientTransport
            if let http {
                guard declared else {
                    Output.stderr("error: agent '\(agent)' is not in agents: of \(manifestPath); over HTTP a key stands for a declared agent (add it, or pass --agent)")
                    throw ExitCode(1)
                }
                var url = http.hasSuffix("/") ? String(http.dropLast()) : http
                if !url.hasSuffix("/mcp") { url += "/mcp" }
                var secret = key
                if secret == nil {
                    let context = try await global.context()
                    do {
                        let (made, record) = try await APIKeys(context: context).create(agent: agent, manifest: context.manifest, label: "client setup: \(kind.rawValue)", expiresIn: nil)
                        secret = made
                        Output.stderr("created key \(record.id) for agent \(agent) (revoke it with `agenthub keys revoke \(record.id)`)")
                    } catch {
                        Output.fail(error)
                        throw ExitCode(1)
                    }
                }
                transport = .http(url: url, key: secret ?? "")
            } else {
                if !declared && role == nil {
                    Output.stderr("error: agent '\(agent)' is not in agents: of \(manifestPath); pass --role (roles: \(manifest.roles.map(\.name).joined(separator: ", "))) or declare it")
                    throw ExitCode(1)
                }
                do { _ = try CallerIdentity(manifest: manifest).caller(agent: agent, role: role, group: nil) } catch {
                    Output.fail(error)
                    throw ExitCode(1)
                }
                var arguments = ["mcp", "--config", manifestPath, "--agent", agent]
                if let role { arguments += ["--role", role] }
                transport = .stdio(command: ChildCommand.agenthub(environment: HostEnvironment.values), arguments: arguments)
            }
            let environment = HostEnvironment.values
            let home = environment["HOME"] ?? NSHomeDirectory()
            let path = file.map { PathText.resolve($0, against: here) } ?? kind.defaultFile(home: home, folder: here, environment: environment)
            let existing = FileManager.default.fileExists(atPath: path) ? try? String(contentsOfFile: path, encoding: .utf8) : nil
            if FileManager.default.fileExists(atPath: path), existing == nil {
                Output.stderr("error: cannot read \(path) as UTF-8 text; nothing was changed")
                throw ExitCode(1)
            }
            do {
                let text = try ClientSetup.merged(kind, name: name, transport: transport, existing: existing)
                if self.print {
                    Swift.print(text, terminator: "")
                    return
                }
                let backup = try ClientSetup.write(text, to: path)
                Output.stderr("\(existing == nil ? "wrote" : "updated") \(path): '\(name)' \(existing == nil ? "added" : "set")\(backup.map { "; the old file is \($0)" } ?? "")")
            } catch {
                Output.stderr("error: \(path): \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}
