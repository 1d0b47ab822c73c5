import AsyncHTTPClient
import Base
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// AgentHub as the OAuth client of a remote MCP server, as the MCP authorization spec describes:
/// the server's protected resource metadata (from its 401's `WWW-Authenticate`, else the well-known
/// address), its authorization server's metadata, a client (configured, or registered dynamically),
/// the authorization code flow with PKCE (S256) and the RFC 8707 resource, refresh and revocation.
/// Redirects are never followed; every error names the server and never a token.
public struct OAuthClient: Sendable {
    public let server: String
    public let url: String
    /// Sent with the discovery probe (a server may want them before it says 401).
    public let headers: [String: String]

    public init(server: String, url: String, headers: [String: String] = [:]) {
        self.server = server
        self.url = url
        self.headers = headers
    }

    /// Where to log in, and how: what discovery found.
    public struct Metadata: Sendable, Equatable {
        public var resource: String
        public var issuer: String
        public var authorizationEndpoint: String
        public var tokenEndpoint: String
        public var registrationEndpoint: String?
        public var revocationEndpoint: String?
        public var scopes: [String]
    }

    /// A registered (or configured) client.
    public struct Client: Sendable, Equatable {
        public var id: String
        public var secret: String?
        public var auth: String
        public init(id: String, secret: String? = nil) {
            self.id = id
            self.secret = secret
            auth = secret == nil ? "none" : "client_secret_post"
        }
    }

    /// One login under way: the address to open, and what the callback is checked against.
    public struct Login: Sendable {
        public let authorizationURL: String
        public let state: String
        let verifier: String
        let redirectURI: String
        let metadata: Metadata
        let client: Client
        let scope: String?
    }

    // MARK: Discovery

    public func discover() async throws(BridgeError) -> Metadata {
        try await Self.withHTTP { http throws(BridgeError) in
            let prm = try await protectedResourceMetadata(http)
            guard let issuer = prm["authorization_servers"]?.arrayValue?.first?.stringValue else {
                throw BridgeError(.protocolViolation, "\(server)'s protected resource metadata names no authorization server")
            }
            let resource = prm["resource"]?.stringValue ?? Self.canonical(url)
            guard Self.covers(resource: resource, url: url) else {
                throw BridgeError(.protocolViolation, "\(server)'s protected resource metadata is for \(resource.utf8Prefix(200)), not \(Self.canonical(url).utf8Prefix(200)); refused")
            }
            let asm = try await authorizationServerMetadata(http, issuer: issuer)
            guard let authorize = asm["authorization_endpoint"]?.stringValue, let token = asm["token_endpoint"]?.stringValue else {
                throw BridgeError(.protocolViolation, "the authorization server of \(server) (\(issuer.utf8Prefix(200))) names no authorization or token endpoint")
            }
            // PKCE is required: a server that does not say it supports S256 is not used.
            guard asm["code_challenge_methods_supported"]?.arrayValue?.contains(.string("S256")) == true else {
                throw BridgeError(.protocolViolation, "the authorization server of \(server) does not offer PKCE with S256; AgentHub will not log in without it")
            }
            let scopes = prm["scopes_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return Metadata(resource: resource, issuer: issuer, authorizationEndpoint: authorize, tokenEndpoint: token,
                            registrationEndpoint: asm["registration_endpoint"]?.stringValue,
                            revocationEndpoint: asm["revocation_endpoint"]?.stringValue, scopes: scopes)
        }
    }

    private func protectedResourceMetadata(_ http: HTTPClient) async throws(BridgeError) -> JSONValue {
        var candidates: [String] = []
        // The 401 of an unauthenticated request names it.
        var probe = HTTPClientRequest(url: url)
        probe.method = .POST
        for (name, value) in headers { probe.headers.replaceOrAdd(name: name, value: value) }
        probe.headers.replaceOrAdd(name: "Accept", value: "application/json, text/event-stream")
        probe.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        probe.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"agenthub","version":"\#(AgentHubVersion.current)"}}}"#))
        if let response = try? await http.execute(probe, timeout: .seconds(15)) {
            if response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate"),
               let named = Self.parameter("resource_metadata", in: challenge) {
                candidates.append(named)
            }
            _ = try? await response.body.collect(upTo: 1 << 20)
        }
        if let parts = URLComponents(string: url), let origin = Self.origin(parts) {
            let path = parts.path == "/" ? "" : parts.path
            if !path.isEmpty { candidates.append(origin + "/.well-known/oauth-protected-resource" + path) }
            candidates.append(origin + "/.well-known/oauth-protected-resource")
        }
        for candidate in candidates {
            if let document = try? await getJSON(http, candidate), document["authorization_servers"] != nil { return document }
        }
        throw BridgeError(.protocolViolation, "\(server) publishes no OAuth protected resource metadata (asked its 401 and /.well-known/oauth-protected-resource); is it an OAuth-protected MCP server?")
    }

    private func authorizationServerMetadata(_ http: HTTPClient, issuer: String) async throws(BridgeError) -> JSONValue {
        guard let parts = URLComponents(string: issuer), let origin = Self.origin(parts) else {
            throw BridgeError(.protocolViolation, "\(server) names an authorization server that is not a URL: \(issuer.utf8Prefix(200))")
        }
        var path = parts.path
        while path.hasSuffix("/") { path.removeLast() }
        let candidates = path.isEmpty
            ? [origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"]
            : [origin + "/.well-known/oauth-authorization-server" + path, origin + "/.well-known/openid-configuration" + path,
               origin + path + "/.well-known/openid-configuration"]
        for candidate in candidates {
            if let document = try? await getJSON(http, candidate), document["token_endpoint"] != nil { return document }
        }
        throw BridgeError(.protocolViolation, "the authorization server of \(server) (\(issuer.utf8Prefix(200))) publishes no metadata at its well-known addresses")
    }

    // MARK: The flow

    /// Registers a client dynamically (RFC 7591) unless one is configured, and makes the authorization URL.
    public func begin(_ metadata: Metadata, redirectURI: String, client configured: Client?, scopes: [String]) async throws(BridgeError) -> Login {
        let client: Client
        if let configured {
            client = configured
        } else {
            guard let registration = metadata.registrationEndpoint else {
                throw BridgeError(.protocolViolation, "the authorization server of \(server) offers no dynamic registration; set plugins.mcp.servers.\(server).oauth.client_id")
            }
            client = try await register(at: registration, redirectURI: redirectURI)
        }
        let verifier = Self.randomToken(32)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URL
        let state = Self.randomToken(24)
        let scope = (scopes.isEmpty ? metadata.scopes : scopes).joined(separator: " ")
        var query: [(String, String)] = [("response_type", "code"), ("client_id", client.id), ("redirect_uri", redirectURI), ("state", state),
                                         ("code_challenge", challenge), ("code_challenge_method", "S256"), ("resource", metadata.resource)]
        if !scope.isEmpty { query.append(("scope", scope)) }
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return Login(authorizationURL: metadata.authorizationEndpoint + separator + Self.form(query), state: state, verifier: verifier,
                     redirectURI: redirectURI, metadata: metadata, client: client, scope: scope.isEmpty ? nil : scope)
    }

    private func register(at endpoint: String, redirectURI: String) async throws(BridgeError) -> Client {
        let body: JSONValue = [
            "client_name": "AgentHub", "redirect_uris": [.string(redirectURI)], "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "none",
        ]
        let answer = try await Self.withHTTP { http throws(BridgeError) in
            try await send(http, endpoint, contentType: "application/json", body: Array(body.jsonText.utf8), what: "registering a client")
        }
        guard let id = answer["client_id"]?.stringValue, !id.isEmpty else {
            throw BridgeError(.protocolViolation, "the authorization server of \(server) registered a client without a client_id")
        }
        var client = Client(id: id, secret: answer["client_secret"]?.stringValue)
        if let method = answer["token_endpoint_auth_method"]?.stringValue { client.auth = method }
        return client
    }

    /// The callback's code, exchanged for tokens.
    public func finish(_ login: Login, code: String) async throws(BridgeError) -> RemoteCredential {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", login.redirectURI),
                      ("code_verifier", login.verifier), ("resource", login.metadata.resource)]
        let answer = try await token(login.metadata.tokenEndpoint, client: login.client, fields: &fields, what: "exchanging the authorization code")
        guard let access = answer["access_token"]?.stringValue, !access.isEmpty else {
            throw BridgeError(.protocolViolation, "the authorization server of \(server) answered the code exchange without an access token")
        }
        return RemoteCredential(accessToken: access, refreshToken: answer["refresh_token"]?.stringValue,
                                expiresAt: answer["expires_in"]?.doubleValue.map { Date().addingTimeInterval($0) },
                                scope: answer["scope"]?.stringValue ?? login.scope, tokenEndpoint: login.metadata.tokenEndpoint,
                                revocationEndpoint: login.metadata.revocationEndpoint, clientId: login.client.id, clientSecret: login.client.secret,
                                clientAuth: login.client.auth, resource: login.metadata.resource, issuer: login.metadata.issuer, obtainedAt: Date())
    }

    /// A new access token from the refresh token (and the refresh token, when the server rotates it).
    public static func refresh(_ credential: RemoteCredential, server: String) async throws(BridgeError) -> RemoteCredential {
        guard let refreshToken = credential.refreshToken else {
            throw BridgeError(.remote, "the login has no refresh token")
        }
        let client = OAuthClient(server: server, url: credential.resource ?? "")
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let resource = credential.resource { fields.append(("resource", resource)) }
        if let scope = credential.scope { fields.append(("scope", scope)) }
        var login = Client(id: credential.clientId, secret: credential.clientSecret)
        login.auth = credential.clientAuth
        let answer = try await client.token(credential.tokenEndpoint, client: login, fields: &fields, what: "refreshing the token")
        guard let access = answer["access_token"]?.stringValue, !access.isEmpty else {
            throw BridgeError(.protocolViolation, "the authorization server of \(server) answered the refresh without an access token")
        }
        var renewed = credential
        renewed.accessToken = access
        if let rotated = answer["refresh_token"]?.stringValue { renewed.refreshToken = rotated }
        renewed.expiresAt = answer["expires_in"]?.doubleValue.map { Date().addingTimeInterval($0) }
        if let scope = answer["scope"]?.stringValue { renewed.scope = scope }
        renewed.obtainedAt = Date()
        return renewed
    }

    /// Tells the authorization server to forget the tokens (RFC 7009): nil when it did, else why not.
    public static func revoke(_ credential: RemoteCredential, server: String) async -> String? {
        guard let endpoint = credential.revocationEndpoint else { return "the server offers no revocation; its tokens expire on their own" }
        let client = OAuthClient(server: server, url: credential.resource ?? "")
        var login = Client(id: credential.clientId, secret: credential.clientSecret)
        login.auth = credential.clientAuth
        var failure: String?
        for (token, hint) in [(credential.refreshToken, "refresh_token"), (credential.accessToken, "access_token")] {
            guard let token else { continue }
            var fields = [("token", token), ("token_type_hint", hint)]
            do { _ = try await client.token(endpoint, client: login, fields: &fields, what: "revoking the token", expectJSON: false) } catch {
                // Some servers (the Python SDK's) want a client_secret field even from a public client: once more with an empty one.
                var again = [("token", token), ("token_type_hint", hint), ("client_secret", "")]
                if login.secret == nil, error.message.contains("invalid_request"),
                   (try? await client.token(endpoint, client: login, fields: &again, what: "revoking the token", expectJSON: false)) != nil { continue }
                failure = error.message
            }
        }
        return failure
    }

    private func token(_ endpoint: String, client: Client, fields: inout [(String, String)], what: String,
                       expectJSON: Bool = true) async throws(BridgeError) -> JSONValue {
        var extra: [(String, String)] = []
        switch client.auth {
        case "client_secret_basic":
            let pair = "\(Self.formEscape(client.id)):\(Self.formEscape(client.secret ?? ""))"
            extra.append(("Authorization", "Basic " + Data(pair.utf8).base64EncodedString()))
        case "client_secret_post":
            fields.append(("client_id", client.id))
            if let secret = client.secret { fields.append(("client_secret", secret)) }
        default:
            fields.append(("client_id", client.id))
        }
        let body = Array(Self.form(fields).utf8)
        return try await Self.withHTTP { http throws(BridgeError) in
            try await send(http, endpoint, contentType: "application/x-www-form-urlencoded", body: body, extra: extra, what: what, expectJSON: expectJSON)
        }
    }

    // MARK: HTTP

    private func send(_ http: HTTPClient, _ endpoint: String, contentType: String, body: [UInt8], extra: [(String, String)] = [],
                      what: String, expectJSON: Bool = true) async throws(BridgeError) -> JSONValue {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: HTTPResponseStatus
        let bytes: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: .seconds(30))
            status = response.status
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw BridgeError(.exited, "\(what) for \(server) failed: the authorization server cannot be reached (\("\(error)".utf8Prefix(200)))")
        }
        let document = try? JSONParser.parse(Array(bytes.readableBytesView))
        guard (200..<300).contains(Int(status.code)) else {
            // An OAuth error names itself (`invalid_grant`); its description is the server's, redacted.
            let code = document?["error"]?.stringValue.map { " (\($0.utf8Prefix(60)))" } ?? ""
            let detail = document?["error_description"]?.stringValue.map { ": " + Redaction.text($0).utf8Prefix(200) } ?? ""
            throw BridgeError(.remote, "\(what) for \(server) was refused with HTTP \(status.code)\(code)\(detail)")
        }
        guard expectJSON else { return .null }
        guard let document, document.objectValue != nil else {
            throw BridgeError(.protocolViolation, "\(what) for \(server): the authorization server did not answer with a JSON object")
        }
        return document
    }

    private func getJSON(_ http: HTTPClient, _ address: String) async throws -> JSONValue? {
        var request = HTTPClientRequest(url: address)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { return nil }
        return try? JSONParser.parse(Array(body.readableBytesView))
    }

    /// One HTTP client for one step, shut down after it (no redirects followed).
    static func withHTTP<T: Sendable>(_ body: (HTTPClient) async throws(BridgeError) -> T) async throws(BridgeError) -> T {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        let configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(30)),
                                                     connectionPool: pool)
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let result: Result<T, BridgeError>
        do { result = .success(try await body(http)) } catch { result = .failure(error) }
        try? await http.shutdown()
        return try result.get()
    }

    // MARK: Small parts

    /// `scheme://host[:port]`.
    static func origin(_ parts: URLComponents) -> String? {
        guard let scheme = parts.scheme, let host = parts.host else { return nil }
        return "\(scheme)://\(host)" + (parts.port.map { ":\($0)" } ?? "")
    }

    /// The server's URL as a resource indicator: no fragment, no query.
    static func canonical(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        parts.fragment = nil
        parts.query = nil
        parts.scheme = parts.scheme?.lowercased()
        parts.host = parts.host?.lowercased()
        return parts.string ?? url
    }

    /// Whether metadata for `resource` may speak for `url`: the same origin, and a path that contains it.
    static func covers(resource: String, url: String) -> Bool {
        guard let r = URLComponents(string: canonical(resource)), let u = URLComponents(string: canonical(url)),
              r.scheme == u.scheme, r.host == u.host, (r.port ?? defaultPort(r.scheme)) == (u.port ?? defaultPort(u.scheme)) else { return false }
        let base = r.path.hasSuffix("/") ? String(r.path.dropLast()) : r.path
        return base.isEmpty || u.path == base || u.path.hasPrefix(base + "/")
    }

    static func defaultPort(_ scheme: String?) -> Int { scheme == "https" ? 443 : 80 }

    /// A parameter of a `WWW-Authenticate` challenge (`resource_metadata="..."`).
    static func parameter(_ name: String, in challenge: String) -> String? {
        guard let range = challenge.range(of: name + "=") else { return nil }
        var rest = challenge[range.upperBound...]
        if rest.first == "\"" {
            rest = rest.dropFirst()
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
        return String(rest.prefix { $0 != "," && $0 != " " })
    }

    static func randomToken(_ bytes: Int) -> String {
        Data((0..<bytes).map { _ in UInt8.random(in: 0...255) }).base64URL
    }

    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\(formEscape($0.0))=\(formEscape($0.1))" }.joined(separator: "&")
    }

    static func formEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension Data {
    /// Base64 without padding, URL-safe (RFC 4648 §5), as PKCE and state use it.
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
