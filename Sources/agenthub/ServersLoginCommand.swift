import ArgumentParser
import Base
import Foundation
import Host
import Plugins

/// `agenthub servers login NAME [--agent A]`: the OAuth flow of a remote server, run once. Prints the
/// address to open in a browser, waits for the browser to come back to 127.0.0.1, and stores the
/// tokens sealed in the registry, where every host on it finds them.
struct ServersLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a remote MCP server that uses OAuth (auth: oauth), for every agent or for one.",
        discussion: """
            Prints an address to open in a browser (on this machine: the browser comes back to \
            http://127.0.0.1:PORT/callback). The tokens are stored sealed with the host's secret key \
            (AGENTHUB_SECRET_KEY, else the secret-key file beside the database) and refreshed before they expire.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The server's name under plugins.mcp.servers.")
    var server: String

    @Option(name: .long, help: "Log this agent in (servers with credentials: per_agent).")
    var agent: String?

    @Option(name: .long, help: "The callback's port on 127.0.0.1 (default: any free one; a client registered by hand may need a fixed one).")
    var port: Int = 0

    @Option(name: .long, help: "How long to wait for the browser, in seconds.")
    var timeout: Int = 300

    func run() async throws {
        let context = try await global.context()
        let (remote, entry) = try Self.remote(server, context)
        let agent = try Self.agent(agent, remote: remote, server: server)
        let credentials: BridgeCredentials
        let callback: OAuthCallback
        do {
            credentials = try context.bridgeCredentials()
            callback = try OAuthCallback(port: port)
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        let client = OAuthClient(server: server, url: remote.url, headers: remote.headers)
        do {
            let metadata = try await client.discover()
            let configured = entry.clientId.map { OAuthClient.Client(id: $0, secret: entry.clientSecret) }
            let login = try await client.begin(metadata, redirectURI: callback.redirectURI, client: configured, scopes: entry.scopes)
            Output.stderr("Open this address in a browser to log in to \(server)\(agent.isEmpty ? "" : " as agent '\(agent)'") (waiting up to \(timeout) s):")
            // Written whole and at once: a script (or a test) reads the address while the command waits.
            FileHandle.standardOutput.write(Data((login.authorizationURL + "\n").utf8))
            let code = try await callback.code(state: login.state, timeout: .seconds(timeout)).get()
            let credential = try await client.finish(login, code: code)
            try await credentials.store(credential, server: server, agent: agent)
            let expiry = credential.expiresAt.map { " (its token lasts \(max(0, Int($0.timeIntervalSinceNow / 60))) min and is refreshed before it expires)" } ?? ""
            Output.stderr("Logged in to \(server)\(agent.isEmpty ? " for every agent" : " as agent '\(agent)'"); stored sealed in the registry\(expiry).")
        } catch let error as BridgeError {
            Output.stderr("error: \(error.message)")
            throw ExitCode(1)
        } catch let error as HostError {
            Output.fail(error)
            throw ExitCode(1)
        }
    }

    /// The remote OAuth entry named, or a usage error.
    static func remote(_ name: String, _ context: HostContext) throws -> (RemoteServerConfig, RemoteServerConfig.OAuthConfig) {
        guard let entry = context.manifest.plugins.mcp?.servers.first(where: { $0.name == name }) else {
            Output.stderr("error: no server named '\(name)' under plugins.mcp.servers in \(context.manifest.file)")
            throw ExitCode(64)
        }
        guard let remote = entry.remote, let oauth = remote.oauth else {
            Output.stderr("error: \(name) does not log in with OAuth (it needs `url:` and `auth: oauth`)")
            throw ExitCode(64)
        }
        return (remote, oauth)
    }

    /// The agent the login is for: "" for a shared login.
    static func agent(_ agent: String?, remote: RemoteServerConfig, server: String) throws -> String {
        switch (remote.credentials, agent) {
        case (.perAgent, nil):
            Output.stderr("error: \(server) takes a login per agent (credentials: per_agent): add --agent AGENT")
            throw ExitCode(64)
        case (.shared, _?):
            Output.stderr("error: \(server) has one login for every agent (credentials: shared): leave out --agent")
            throw ExitCode(64)
        case (_, let agent?) where agent.isEmpty:
            Output.stderr("error: --agent needs a name")
            throw ExitCode(64)
        default:
            return agent ?? ""
        }
    }
}

/// `agenthub servers logout NAME [--agent A]`: forgets a login, revoking its tokens where the server offers that.
struct ServersLogout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Forget a login to a remote MCP server (its tokens are revoked where the server offers revocation).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The server's name under plugins.mcp.servers.")
    var server: String

    @Option(name: .long, help: "The agent whose login to forget (servers with credentials: per_agent).")
    var agent: String?

    func run() async throws {
        let context = try await global.context()
        let (remote, _) = try ServersLogin.remote(server, context)
        let agent = try ServersLogin.agent(agent, remote: remote, server: server)
        do {
            let (removed, notRevoked) = try await context.bridgeCredentials().remove(server: server, agent: agent)
            guard removed else {
                Output.stderr("no login to \(server)\(agent.isEmpty ? "" : " for agent '\(agent)'") is stored")
                throw ExitCode(1)
            }
            Output.stderr("Logged out of \(server)\(agent.isEmpty ? "" : " for agent '\(agent)'")" + (notRevoked.map { "; its tokens were not revoked (\($0))" } ?? "; its tokens were revoked"))
        } catch let error as BridgeError {
            Output.stderr("error: \(error.message)")
            throw ExitCode(1)
        } catch let error as HostError {
            Output.fail(error)
            throw ExitCode(1)
        }
    }
}
