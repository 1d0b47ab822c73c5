import Base
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Registry
import Synchronization
import Core

/// The registry in PostgreSQL, for several hosts on one database: a pooled `PostgresClient` and the
/// schema (`PostgresSchema`), migrated at open under an advisory lock so hosts starting together
/// migrate once.
///
/// Opening checks the server first with one direct connection, so a host that cannot reach it says
/// why at start (host, port, database and the server's own words, never the password) instead of
/// waiting on a pool that retries quietly.
public final class PostgresRegistry: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    private let running: Task<Void, Never>
    let logger: Logger
    /// The change feed every host on this database shares (LISTEN/NOTIFY).
    public let feed: PostgresChangeFeed
    /// The sync leases this registry's syncers hold now, by source: a publish of a source whose lease
    /// is held here is written under it (fenced).
    let heldLeases = Mutex<[String: SyncLease]>([:])

    /// Connects, migrates and returns the registry; its pool runs until `close`.
    public static func open(_ location: PostgresLocation, logger: Logger) async throws(RegistryError) -> PostgresRegistry {
        // The probe's connection also migrates: the pool starts only once the schema is in place.
        let connection = try await probe(location, logger: logger)
        do {
            try await PostgresSchema.migrate(connection, logger: logger, host: ProcessInfo.processInfo.hostName)
            try? await connection.close().get()
        } catch {
            try? await connection.close().get()
            if let error = unwrapped(error) as? RegistryError { throw error }
            throw RegistryError(.migration, "\(location): migrating the schema failed: \(Self.describe(error))")
        }
        let registry = PostgresRegistry(location: location, logger: logger)
        registry.feed.start()
        return registry
    }

    private init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        client = PostgresClient(configuration: Self.clientConfiguration(location), backgroundLogger: logger)
        let client = self.client
        running = Task { await client.run() }
        feed = PostgresChangeFeed(client: client, location: location, logger: logger)
    }

    /// Stops the pool (its connections close) and the change feed's listener.
    public func close() {
        feed.stop()
        running.cancel()
    }

    /// The schema versions applied, oldest first.
    public func schemaVersions() async throws(RegistryError) -> [Int] {
        try await guarded("reading the schema version") { [self] in
            var versions: [Int] = []
            for try await version in try await client.query("SELECT version FROM agenthub_migrations ORDER BY version", logger: logger).decode(Int.self) {
                versions.append(version)
            }
            return versions
        }
    }

    // MARK: Connecting

    /// One connection: the server is there and takes these credentials (the caller closes it).
    static func probe(_ location: PostgresLocation, logger: Logger) async throws(RegistryError) -> PostgresConnection {
        let configuration: PostgresConnection.Configuration
        do { configuration = try connectionConfiguration(location) } catch {
            throw RegistryError(.location, "\(location): cannot set up TLS for sslmode=\(location.sslMode.rawValue): \(error)")
        }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let attempt = Task {
            try await PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 0, logger: logger).get()
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(location.connectTimeout))
            attempt.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await attempt.value
        } catch {
            let why = attempt.isCancelled && (error as? PSQLError)?.serverInfo == nil
                ? "no answer within \(location.connectTimeout) s (connect_timeout)" : describe(error)
            throw RegistryError(.database, "cannot reach the registry database \(location): \(why)")
        }
    }

    static func connectionConfiguration(_ location: PostgresLocation) throws -> PostgresConnection.Configuration {
        if let socket = location.socketPath {
            return PostgresConnection.Configuration(unixSocketPath: socket, username: location.user, password: location.password, database: location.database)
        }
        let tls: PostgresConnection.Configuration.TLS
        switch location.sslMode {
        case .disable: tls = .disable
        case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(location.sslMode)))
        case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(location.sslMode)))
        }
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: location.password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeout))
        return configuration
    }

    static func clientConfiguration(_ location: PostgresLocation) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = location.socketPath {
            configuration = PostgresClient.Configuration(unixSocketPath: socket, username: location.user, password: location.password,
                                                         database: location.database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch location.sslMode {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(tlsConfiguration(location.sslMode))
            case .require, .verifyCA, .verifyFull: tls = .require(tlsConfiguration(location.sslMode))
            }
            configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: location.password, database: location.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeout))
        return configuration
    }

    /// libpq's modes: `prefer`/`allow`/`require` encrypt without checking the certificate,
    /// `verify-ca` checks the chain, `verify-full` the chain and the host name.
    static func tlsConfiguration(_ mode: PostgresLocation.SSLMode) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .verifyFull: break
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        return tls
    }

    /// What went wrong, in the server's words when it gave any; never the password (PostgresNIO's
    /// own description hides everything, so the parts are taken one by one).
    static func describe(_ error: any Error) -> String {
        let error = unwrapped(error)
        if let error = error as? RegistryError { return error.message }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "the server said: \(message)\(state)"
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// How long an operation may take while the database is reachable: long enough that a loaded
    /// server (or a loaded host) is not mistaken for a lost one, never shorter than `connect_timeout`.
    var answerLimit: Duration { .seconds(max(30, location.connectTimeout)) }

    /// Runs one database operation so that it fails fast: a second after the change feed's
    /// connection finds the database unreachable (before the call or while it waits; it may be back
    /// already, so the call still tries), after `limit` (`answerLimit` unless given) otherwise; the
    /// pool alone would keep a call waiting for a connection for a minute. Every error becomes a
    /// `RegistryError` naming the database and the operation.
    func guarded<T: Sendable>(_ what: String, within limit: Duration? = nil,
                              _ body: @escaping @Sendable () async throws -> T) async throws(RegistryError) -> T {
        let limit = limit ?? answerLimit
        // The work is not awaited past the limit: a call blocked inside the driver on a connection
        // that will never answer must not hold its caller (a task group would wait for it).
        let ended = OneShot<Result<T, any Error>>()
        let work = Task {
            do { ended.set(.success(try await body())) } catch { ended.set(.failure(error)) }
        }
        let start = ContinuousClock.now
        var lostSince: ContinuousClock.Instant?
        while true {
            if let result = await ended.wait(timeout: .milliseconds(250)) {
                switch result {
                case .success(let value): return value
                case .failure(let error):
                    if let error = Self.unwrapped(error) as? RegistryError { throw error }
                    throw RegistryError(.database, "\(location): \(what) failed: \(Self.describe(error))")
                }
            }
            let now = ContinuousClock.now
            if let problem = feed.unreachable {
                let since = lostSince ?? now
                lostSince = since
                if now - since >= .seconds(1) {
                    work.cancel()
                    throw RegistryError(.database, "\(location): \(what) failed: the database is unreachable (\(problem))")
                }
            } else {
                lostSince = nil
            }
            if now - start >= limit {
                work.cancel()
                throw RegistryError(.database, "\(location): \(what) failed: no answer within \(limit)")
            }
        }
    }

    /// The error inside a failed transaction: what its body threw, else why it could not begin or commit.
    static func unwrapped(_ error: any Error) -> any Error {
        guard let failed = error as? PostgresTransactionError else { return error }
        return failed.closureError ?? failed.beginError ?? failed.commitError ?? failed.rollbackError ?? error
    }
}
