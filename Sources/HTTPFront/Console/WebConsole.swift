import Base
import Core
import Foundation
import Host
import Hummingbird

/// The web console at `/` of `agenthub serve`: the same listener, keys and limits as the API. A key
/// signs in once and becomes a session cookie; every page is rendered on the server from the host's
/// state, works without JavaScript, and shows only what the key may use (the rest answers 403).
final class WebConsole: Sendable {
    let api: HTTPAPI
    let sessions: ConsoleSessions
    let view = ConsoleView()
    let markdown: MarkdownWorker
    let started: Date
    /// Logins to OAuth servers started here and not yet back.
    let logins = ConsoleLogins()

    init(api: HTTPAPI, started: Date, sessions: ConsoleSessions? = nil) {
        self.api = api
        self.started = started
        self.sessions = sessions ?? api.consoleSessions
        markdown = MarkdownWorker.standard(environment: api.runtime.context.environment, logger: api.logger)
    }

    var state: HostState { api.state }

    func addRoutes(to router: Router<APIContext>) {
        let open = router.group().add(middleware: ConsoleHeaders())
        open.get("assets/console.css") { _, _ in ConsoleAssets.response(ConsoleAssets.css, type: "text/css") }
        open.get("assets/console.js") { _, _ in ConsoleAssets.response(ConsoleAssets.js, type: "text/javascript") }
        open.get("login") { request, context in self.loginPage(request, context) }
        open.post("login") { request, context in try await self.signIn(request, context) }

        let pages = router.group().add(middleware: ConsoleHeaders()).add(middleware: ConsoleGate(console: self))
        pages.post("logout") { request, context in
            if let session = context.console { await self.sessions.close(session.token) }
            return ConsoleView.redirect("/login?signed_out=1", headers: [.setCookie: Self.cookie(ConsoleSessions.cookie, "", request, maxAge: 0)])
        }
        addOverview(pages)
        addSkillPages(pages)
        addSourcePages(pages)
        addToolPages(pages)
        addEventPages(pages)
        addApprovalPages(pages)
        addTaskPages(pages)
        addKeyPages(pages)
        addLoginPages(open: open, pages: pages)
    }

    // MARK: sign-in

    func loginPage(_ request: Request, _ context: APIContext, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let token = ConsoleSessions.token()
        let params = request.uri.queryParameters
        var data: [String: Any] = ["csrf": token, "next": Self.safeNext(request.query("next"))]
        if let error { data["error"] = error }
        if params.get("signed_out") != nil, error == nil { data["notice"] = "You are signed out." }
        if params.get("expired") != nil, error == nil { data["notice"] = "Your session ended; sign in again." }
        return view.bare("login", data: data, status: status,
                         headers: [.setCookie: Self.cookie(ConsoleSessions.loginCookie, token, request, maxAge: 3600)])
    }

    func signIn(_ request: Request, _ context: APIContext) async throws -> Response {
        let settings = state.snapshot.manifest.http
        if let origin = request.headers[.origin], !api.originAllowed(origin, settings: settings) {
            throw ConsoleError.forbidden("A form from \(origin) may not sign in to this host (http.allowed_origins).")
        }
        var request = request
        let form = try await ConsoleForm.read(&request, api: api)
        guard let sent = form["csrf"], let cookie = request.cookies[ConsoleSessions.loginCookie]?.value, ConsoleSessions.same(sent, cookie) else {
            throw ConsoleError.forbidden("The sign-in form's CSRF token is missing or does not match; reload the sign-in page and try again.")
        }
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { return loginPage(request, context, error: "Paste an API key (agenthub keys create --agent NAME makes one).", status: .unauthorized) }
        let identity: APIIdentity
        do { identity = try await api.identify(key: key) } catch let error as APIError {
            if let wait = api.admitFailedKey(from: context.remoteIP, settings) {
                return loginPage(request, context, error: "Too many failed sign-ins from this address; try again in \(wait) s.", status: .tooManyRequests)
            }
            return loginPage(request, context, error: "That key was refused: \(error.message).", status: .unauthorized)
        }
        let session: ConsoleSession
        do { session = try await sessions.open(keyHash: api.keys.hash(key), agent: identity.agent, now: api.now()) } catch {
            return loginPage(request, context, error: "The sign-in could not be recorded (\(error.message)); try again.", status: .serviceUnavailable)
        }
        api.logger.info("console sign-in", metadata: ["agent": "\(identity.agent)", "key": "\(identity.keyId)"])
        var response = ConsoleView.redirect(Self.safeNext(form["next"]))
        response.headers[values: .setCookie] = [Self.cookie(ConsoleSessions.cookie, session.token, request, maxAge: Int(sessions.lifetime)),
                                                Self.cookie(ConsoleSessions.loginCookie, "", request, maxAge: 0)]
        return response
    }

    /// Where to go after sign-in: a path on this host, never another origin.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"), !next.hasPrefix("/login"),
              !next.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return "/" }
        return next
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole site, and Secure when the request came over
    /// TLS (directly, or through a proxy that says so with `X-Forwarded-Proto: https`).
    static func cookie(_ name: String, _ value: String, _ request: Request, maxAge: Int) -> String {
        var text = "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
        if isTLS(request) { text += "; Secure" }
        return text
    }

    static func isTLS(_ request: Request) -> Bool {
        if request.uri.scheme == .https { return true }
        return request.headers[HeaderName("X-Forwarded-Proto")!]?.lowercased().split(separator: ",").first?
            .trimmingCharacters(in: .whitespaces) == "https"
    }

    /// The viewer of a signed-in request, with the pending approvals it would see (for the badge).
    func viewer(_ context: APIContext) async throws -> (ConsoleViewer, APIIdentity) {
        guard let who = context.identity, let session = context.console else { throw ConsoleError(.unauthorized, "Sign in first.") }
        let pending = (try? await api.desk.book.pendingCount(agent: who.admin ? nil : who.agent)) ?? 0
        return (ConsoleViewer(agent: who.agent, role: who.caller.role ?? "–", admin: who.admin, csrf: session.csrf, pending: pending), who)
    }

    static func requireAdmin(_ who: APIIdentity, _ what: String) throws {
        guard who.admin else { throw ConsoleError.forbidden("Only an admin agent (agents.NAME.admin: true) may \(what); agent '\(who.agent)' is not one.") }
    }
}

/// Headers every console answer carries: no inline script, no foreign content, no framing, no sniffing.
struct ConsoleHeaders: RouterMiddleware {
    typealias Context = APIContext
    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func apply(_ headers: inout HTTPFields) {
        headers[HeaderName("Content-Security-Policy")!] = policy
        headers[HeaderName("X-Content-Type-Options")!] = "nosniff"
        headers[HeaderName("X-Frame-Options")!] = "DENY"
        headers[HeaderName("Referrer-Policy")!] = "same-origin"
    }

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        Self.apply(&response.headers)
        return response
    }
}

/// Checks every signed-in console request: the session cookie and its key (still valid, still
/// declared), the key's rate, and for every form the browser origin and the session's CSRF token.
/// The form is read here, once, and handed to the route in the context.
struct ConsoleGate: RouterMiddleware {
    typealias Context = APIContext
    let console: WebConsole

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let reading = request.method == .get || request.method == .head
        guard let token = request.cookies[ConsoleSessions.cookie]?.value, let session = await console.sessions.session(token, now: console.api.now()) else {
            if reading {
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return ConsoleView.redirect("/login?next=" + ConsoleFormat.encode(target))
            }
            throw ConsoleError.forbidden("Sign in first: this form needs a console session (its CSRF token is tied to one).")
        }
        let api = console.api
        let identity: APIIdentity
        do { identity = try await api.identify(keyHash: session.keyHash) } catch let error as APIError where error.status == .serviceUnavailable {
            // The registry cannot be read: the session stands, this request cannot be served.
            throw ConsoleError(.serviceUnavailable, error.message)
        } catch {
            await console.sessions.close(keyHash: session.keyHash)
            if reading { return ConsoleView.redirect("/login?expired=1") }
            throw ConsoleError.forbidden("Your session ended (\((error as? APIError)?.message ?? "the key was refused")); sign in again.")
        }
        let settings = identity.snapshot.manifest.http
        if let wait = api.limiter.admit(identity.keyId, rate: settings.rateLimit, burst: settings.rateBurst) {
            throw ConsoleError(.tooManyRequests, "Too many requests for this key (http.rate_limit); retry after \(wait) s.")
        }
        var context = context
        var checked = identity
        let sessions = console.sessions, keyCheck = identity.recheck, now = api.now
        // A signed-out console session ends its live tail as a revoked key does.
        checked.recheck = { await sessions.session(token, now: now()) == nil ? "the console session ended" : await keyCheck() }
        context.identity = checked
        context.console = session
        var request = request
        if !reading {
            if let origin = request.headers[.origin], !api.originAllowed(origin, settings: settings) {
                throw ConsoleError.forbidden("A form from \(origin) may not act on this host (http.allowed_origins).")
            }
            let form = try await ConsoleForm.read(&request, api: api)
            let sent = form["csrf"] ?? request.headers[HeaderName("X-CSRF-Token")!] ?? ""
            guard ConsoleSessions.same(sent, session.csrf) else {
                throw ConsoleError.forbidden("The form's CSRF token is missing or wrong, so nothing was done; reload the page and send it again.")
            }
            context.form = form
        }
        return try await next(request, context)
    }
}

/// An `application/x-www-form-urlencoded` body, at most `http.max_body_bytes`.
enum ConsoleForm {
    static func read(_ request: inout Request, api: HTTPAPI) async throws -> [String: String] {
        let limit = api.state.snapshot.manifest.http.maxBodyBytes
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch {
            throw ConsoleError(.contentTooLarge, "The form is over \(limit) bytes (http.max_body_bytes).")
        }
        return parse(String(buffer: buffer))
    }

    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let name = decode(parts[0])
            guard !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

extension Request {
    /// A query parameter as text (nil when absent).
    func query(_ name: String) -> String? { uri.queryParameters.get(name).map { String($0) } }
}
