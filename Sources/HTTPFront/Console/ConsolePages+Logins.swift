import Base
import Foundation
import Host
import Hummingbird
import Plugins
import Synchronization

/// Logins to remote servers behind OAuth from the console, as `agenthub servers login` does them:
/// `POST /servers/{name}/login` starts the flow for the viewer's agent (or, for a shared login, an
/// admin) and sends the browser to the authorization server; it comes back to
/// `GET /servers/{name}/callback`, which the `state` authenticates (the session cookie, SameSite
/// strict, does not come along on that cross-site return); `POST /servers/{name}/logout` forgets it.
extension WebConsole {
    func addLoginPages(open: RouterGroup<APIContext>, pages: RouterGroup<APIContext>) {
        pages.post("servers/:name/login") { request, context -> Response in
            let (_, who) = try await self.viewer(context)
            let name = try context.pathParameter("name")
            let (remote, agent) = try self.loginTarget(name, who)
            guard let host = request.head.authority, !host.isEmpty, !host.contains("/"), !host.contains("@") else {
                throw ConsoleError.badRequest("The request names no host to come back to.")
            }
            let redirect = (Self.isTLS(request) ? "https" : "http") + "://\(host)/servers/\(ConsoleFormat.encode(name))/callback"
            let client = OAuthClient(server: name, url: remote.url, headers: remote.headers)
            let configured = remote.oauth?.clientId.map { OAuthClient.Client(id: $0, secret: remote.oauth?.clientSecret) }
            let login: OAuthClient.Login
            do throws(BridgeError) {
                let metadata = try await client.discover()
                login = try await client.begin(metadata, redirectURI: redirect, client: configured, scopes: remote.oauth?.scopes ?? [])
            } catch {
                throw ConsoleError(.badGateway, "The login to \(name) could not start: \(error.message)")
            }
            self.logins.begin(ConsolePendingLogin(server: name, agent: agent, by: who.agent, login: login))
            self.api.logger.info("console login started", metadata: ["server": "\(name)", "for": "\(agent.isEmpty ? "(shared)" : agent)", "by": "\(who.agent)"])
            return ConsoleView.redirect(login.authorizationURL)
        }
        open.get("servers/:name/callback") { request, context -> Response in
            let name = try context.pathParameter("name")
            guard let state = request.query("state"), let pending = self.logins.take(state), pending.server == name else {
                return self.view.bare("loginDone", data: ["error": "This login is unknown or expired (10 minutes); start it again from the console."],
                                      status: .badRequest)
            }
            if let error = request.query("error") {
                let detail = request.query("error_description").map { ": " + Redaction.text($0).utf8Prefix(200) } ?? ""
                return self.view.bare("loginDone", data: ["error": "The authorization server refused the login (\(error.utf8Prefix(60)))\(detail)."],
                                      status: .badRequest)
            }
            guard let code = request.query("code"), !code.isEmpty, let credentials = self.state.parts.bridge.credentials else {
                return self.view.bare("loginDone", data: ["error": "The callback carried no code, or this host cannot keep logins."], status: .badRequest)
            }
            do throws(BridgeError) {
                let credential = try await OAuthClient(server: name, url: "").finish(pending.login, code: code)
                try await credentials.store(credential, server: name, agent: pending.agent)
                // A server waiting for its first login connects now rather than at its next retry.
                self.state.parts.bridge.startNow(server: name)
            } catch {
                return self.view.bare("loginDone", data: ["error": "The login to \(name) failed: \(error.message)"], status: .badGateway)
            }
            self.api.logger.info("console login stored", metadata: ["server": "\(name)", "for": "\(pending.agent.isEmpty ? "(shared)" : pending.agent)",
                                                                    "by": "\(pending.by)"])
            let whom = pending.agent.isEmpty ? "for every agent" : "as agent \(pending.agent)"
            return self.view.bare("loginDone", data: ["done": "Logged in to \(name) \(whom). The token is stored sealed and refreshed before it expires."])
        }
        pages.post("servers/:name/logout") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            let name = try context.pathParameter("name")
            let (_, agent) = try self.loginTarget(name, who)
            guard let credentials = self.state.parts.bridge.credentials else { throw ConsoleError.badRequest("This host keeps no logins.") }
            do throws(BridgeError) { _ = try await credentials.remove(server: name, agent: agent) } catch {
                throw ConsoleError(.serviceUnavailable, error.message)
            }
            self.api.logger.info("console logout", metadata: ["server": "\(name)", "for": "\(agent.isEmpty ? "(shared)" : agent)", "by": "\(who.agent)"])
            return ConsoleView.redirect("/tools#servers")
        }
    }

    /// The OAuth server named and whose login a viewer may make: its own agent's, or the shared one (an admin's).
    func loginTarget(_ name: String, _ who: APIIdentity) throws -> (RemoteServerConfig, String) {
        guard let entry = who.snapshot.manifest.plugins.mcp?.servers.first(where: { $0.name == name }), let remote = entry.remote, remote.oauth != nil else {
            throw ConsoleError.notFound("No remote server named '\(TraceRedaction.name(name))' logs in with OAuth.")
        }
        if remote.credentials == .perAgent { return (remote, who.agent) }
        try Self.requireAdmin(who, "log every agent in to \(name) (credentials: shared)")
        return (remote, "")
    }

    /// What the tools page shows of a server's logins: who is logged in, and what the viewer may do.
    func loginRow(_ server: String, _ who: APIIdentity) async -> [String: Any]? {
        guard let remote = who.snapshot.manifest.plugins.mcp?.servers.first(where: { $0.name == server })?.remote, remote.oauth != nil else { return nil }
        let agents = await state.parts.bridge.credentials?.agents(server: server) ?? []
        let perAgent = remote.credentials == .perAgent
        let mine = perAgent ? who.agent : ""
        var row: [String: Any] = ["server": server, "mode": perAgent ? "each agent logs in" : "one shared login",
                                  "loggedIn": agents.contains(mine), "may": perAgent || who.admin]
        if who.admin { row["who"] = agents.map { $0.isEmpty ? "shared" : $0 }.joined(separator: ", ") }
        return row
    }
}

/// A login under way from the console: what the callback finishes.
struct ConsolePendingLogin: Sendable {
    let server: String
    let agent: String
    let by: String
    let login: OAuthClient.Login
    var started = Date()
}

/// The console's logins under way, by `state`: at most 100, each for 10 minutes, each taken once.
final class ConsoleLogins: Sendable {
    private let pending = Mutex<[String: ConsolePendingLogin]>([:])

    func begin(_ login: ConsolePendingLogin) {
        pending.withLock { all in
            let now = Date()
            all = all.filter { now.timeIntervalSince($0.value.started) < 600 }
            if all.count >= 100, let oldest = all.min(by: { $0.value.started < $1.value.started }) { all.removeValue(forKey: oldest.key) }
            all[login.login.state] = login
        }
    }

    func take(_ state: String) -> ConsolePendingLogin? {
        pending.withLock { all in
            guard let found = all.removeValue(forKey: state), Date().timeIntervalSince(found.started) < 600 else { return nil }
            return found
        }
    }
}
