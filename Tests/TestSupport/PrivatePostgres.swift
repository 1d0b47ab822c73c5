import Foundation

/// A PostgreSQL server of a test's own (Debian's `postgresql` package, which `make test` installs):
/// `initdb` in a temporary folder, a password-protected superuser, listening on 127.0.0.1 at a free
/// port and on a socket in that folder. `stop` ends it by its postmaster's PID; a watchdog shell
/// ends it too if the test process dies first, however it dies.
public final class PrivatePostgres: @unchecked Sendable {
    public let folder: String
    public let port: Int
    public let user = "agenthub"
    public let password = "s3cret-pw-\(UUID().uuidString.prefix(8))"
    private var postmaster: Int32 = 0

    /// The server's binaries, or nil when PostgreSQL is not installed.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        guard let versions = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }

    /// A new server, set up on a thread of its own: `initdb` and the start take seconds, which a
    /// test must not spend holding one of the cooperative pool's two threads.
    public static func make() async throws -> PrivatePostgres {
        try await onOwnThread { try PrivatePostgres() }
    }

    /// One server for the whole test process, started by the first caller; it stops (and its folder
    /// goes) when the process ends, however it ends.
    static let shared = Task {
        let server = try await PrivatePostgres.make()
        sharedServer = server
        // The watchdog stops it if this process dies; on a normal exit it is stopped and its folder removed here.
        atexit { PrivatePostgres.sharedServer?.stop() }
        return server
    }
    nonisolated(unsafe) static var sharedServer: PrivatePostgres?

    /// The URL of a new, empty database of its own on the process's shared server: for suites that
    /// run many tests against PostgreSQL without paying an `initdb` each.
    public static func sharedDatabase() async throws -> String {
        try await sharedHandle().url
    }

    /// A new, empty database on the shared server, with `psql` into it.
    public struct Database: Sendable {
        public let server: PrivatePostgres
        public let name: String
        public var url: String { server.url(database: name) }
        public func psql(_ sql: String) throws -> String { try server.psql(sql, database: name) }
    }

    public static func sharedHandle() async throws -> Database {
        let server = try await shared.value
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try await onOwnThread { try server.psql("CREATE DATABASE \(name)", database: "postgres") }
        return Database(server: server, name: name)
    }

    /// `halt`, off the cooperative pool.
    public func halted() async {
        _ = try? await onOwnThread { self.halt() }
    }

    /// `start`, off the cooperative pool.
    public func started() async throws {
        try await onOwnThread { try self.start() }
    }

    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE` for this server.
    public func url(database: String = "agenthub", password: String? = nil, query: String = "sslmode=disable") -> String {
        "postgres://\(user):\(password ?? self.password)@127.0.0.1:\(port)/\(database)?\(query)"
    }

    public init() throws {
        guard let bin = Self.binaries else { throw Problem("PostgreSQL is not installed (apt-get install postgresql)") }
        folder = NSTemporaryDirectory() + "agenthub-pg-" + UUID().uuidString.prefix(8)
        port = Self.freePort()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: URL(fileURLWithPath: folder + "/pw"))
        let asRoot = getuid() == 0
        if asRoot { _ = try run("/bin/chown", ["-R", "postgres:postgres", folder]) }
        let prefix = asRoot ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
        let data = folder + "/data"
        let initdb = prefix + ["\(bin)/initdb", "-D", data, "-U", user, "--pwfile=\(folder)/pw", "--auth=scram-sha-256", "-E", "UTF8",
                               "--locale=C.UTF-8", "--no-sync"]
        let made = try run(initdb[0], Array(initdb.dropFirst()))
        guard made.status == 0 else { throw Problem("initdb failed: \(made.stderr)") }
        try start()
        let created = try run("\(bin)/psql", ["-h", folder, "-p", "\(port)", "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                              "-c", "CREATE DATABASE agenthub"], environment: ["PGPASSWORD": password])
        guard created.status == 0 else { throw Problem("creating the database failed: \(created.stderr)") }
    }

    /// Starts the server on its folder and port (again, after `halt`).
    public func start() throws {
        guard let bin = Self.binaries else { throw Problem("PostgreSQL is not installed") }
        let asRoot = getuid() == 0
        let prefix = asRoot ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
        let data = folder + "/data"
        // The watchdog: starts the server, then waits for this process or the server to end, and
        // stops the server (fast shutdown) when this process is gone (or a zombie: a killed test
        // runner may wait unreaped, and a zombie still answers `kill -0`).
        let server = (prefix + ["\(bin)/postgres", "-D", data, "-p", "\(port)", "-k", folder, "-c", "listen_addresses=127.0.0.1",
                                "-c", "fsync=off", "-c", "max_connections=300"]).map { "'\($0)'" }.joined(separator: " ")
        let script = "\(server) >\(folder)/log 2>&1 & pg=$!; while [ -d /proc/\(getpid()) ] && ! grep -q '^State:[[:space:]]*Z' /proc/\(getpid())/status 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.2; done; kill -INT $pg 2>/dev/null; wait; [ -d /proc/\(getpid()) ] || rm -rf '\(folder)'"
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", script]
        try watchdog.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8),
               text.split(separator: "\n").count >= 8, text.contains("ready") {
                postmaster = Int32(text.split(separator: "\n")[0]) ?? 0
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard postmaster > 0 else {
            let log = (try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""
            throw Problem("the test PostgreSQL server did not start: \(log)")
        }
    }

    /// Stops the server (fast shutdown), keeping its data: `start` brings it back.
    public func halt() {
        guard postmaster > 0 else { return }
        kill(postmaster, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while kill(postmaster, 0) == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        postmaster = 0
        try? FileManager.default.removeItem(atPath: folder + "/data/postmaster.pid")
    }

    /// Runs SQL as the superuser with psql; returns its output (unaligned, tuples only).
    public func psql(_ sql: String, database: String = "agenthub") throws -> String {
        guard let bin = Self.binaries else { throw Problem("PostgreSQL is not installed") }
        let result = try run("\(bin)/psql", ["-h", folder, "-p", "\(port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw Problem("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server (fast shutdown) and removes its folder.
    public func stop() {
        halt()
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    private static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
