import Foundation

/// Where the registry lives, as `host.database` names it: a SQLite file (the embedded default) or a
/// PostgreSQL database (`postgres://` or `postgresql://`, libpq's URL form).
public enum RegistryLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Reads `host.database`: a URL with a PostgreSQL scheme is a database, anything else a file.
    public static func parse(_ text: String) throws(RegistryError) -> RegistryLocation {
        if PostgresLocation.hasScheme(text) { return .postgres(try PostgresLocation(url: text)) }
        return .sqlite(path: text)
    }
}

/// A PostgreSQL database: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&host=/socket/dir]`.
/// The password is kept for connecting and never shown: `description` leaves it out.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`, as far as a client without certificate files can honour it.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    /// A folder holding the server's socket (`?host=/path`, as libpq takes it): connect there, not over TCP.
    public var socketFolder: String?
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// Seconds to wait for a connection (`?connect_timeout=`), 10 when not given.
    public var connectTimeout: Int

    static let schemes = ["postgres://", "postgresql://"]

    public static func hasScheme(_ text: String) -> Bool {
        schemes.contains { text.lowercased().hasPrefix($0) }
    }

    public init(url text: String) throws(RegistryError) {
        func refuse(_ why: String) -> RegistryError {
            RegistryError(.location, "host.database: \(why) (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…)")
        }
        guard let scheme = Self.schemes.first(where: { text.lowercased().hasPrefix($0) }) else {
            throw refuse("not a PostgreSQL URL")
        }
        guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw refuse("the URL holds a control character") }
        var rest = Substring(text.dropFirst(scheme.count))
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        // Host and port; an IPv6 address is bracketed.
        var hostPart = String(rest), portPart: String?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw refuse("an IPv6 host needs its closing ]") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portPart = String(after.dropFirst()) } else if !after.isEmpty { throw refuse("unexpected '\(after)' after the host") }
            hostPart = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = String(hostPart[hostPart.index(after: colon)...])
            hostPart = String(hostPart[..<colon])
        }
        var port = 5432
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { throw refuse("the port must be 1-65535, found '\(portPart)'") }
            port = value
        }
        guard let host = hostPart.removingPercentEncoding else { throw refuse("the host is not valid percent-encoded text") }

        var user = "", password: String?
        if let userInfo {
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let decoded = parts[0].removingPercentEncoding else { throw refuse("the user name is not valid percent-encoded text") }
            user = decoded
            if parts.count == 2 {
                guard let decoded = parts[1].removingPercentEncoding else { throw refuse("the password is not valid percent-encoded text") }
                password = decoded
            }
        }
        guard let database = path.removingPercentEncoding else { throw refuse("the database name is not valid percent-encoded text") }

        var socketFolder: String?, sslMode = SSLMode.prefer, connectTimeout = 10
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = kv[0], value = kv.count == 2 ? (kv[1].removingPercentEncoding ?? "") : ""
            switch key {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw refuse("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")), found '\(value)'")
                }
                sslMode = mode
            case "host":
                guard value.hasPrefix("/") else { throw refuse("?host= must be a socket folder (an absolute path), found '\(value)'") }
                socketFolder = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 3600 else { throw refuse("connect_timeout must be 1-3600 seconds, found '\(value)'") }
                connectTimeout = seconds
            case "application_name", "options", "target_session_attrs": continue
            default:
                throw refuse("unknown parameter '\(key)' (known: sslmode, host, connect_timeout)")
            }
        }
        guard !user.isEmpty else { throw refuse("a user name is required (postgres://USER@…)") }
        guard !database.isEmpty else { throw refuse("a database name is required (…/DATABASE)") }
        guard !host.isEmpty || socketFolder != nil else { throw refuse("a host is required (or ?host=/socket/folder)") }
        if socketFolder != nil, sslMode == .require || sslMode == .verifyCA || sslMode == .verifyFull {
            throw refuse("sslmode=\(sslMode.rawValue) cannot be used over a Unix socket")
        }
        self.host = host
        self.port = port
        self.socketFolder = socketFolder
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
    }

    /// Where it is, without the password: what logs, errors and `status` show.
    public var description: String {
        let at = socketFolder.map { "\($0)/.s.PGSQL.\(port)" } ?? (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        return "postgres://\(user)@\(at)/\(database)"
    }

    /// The server's socket file when connecting over a Unix socket.
    public var socketPath: String? { socketFolder.map { "\($0)/.s.PGSQL.\(port)" } }
}
