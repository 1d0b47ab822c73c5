import Base
import Foundation
import GRDB
import Logging

/// The registry: one SQLite file (WAL, a `DatabasePool`) holding sources, skills, their files,
/// sync history and the full-text index. One `Sendable` value owns the pool and the migrator.
public struct RegistryDatabase: Sendable {
    public let path: String
    let pool: DatabasePool
    /// Connections for reads of one statement, outside the pool (see `SingleStatementReaders`).
    let singleStatementReaders: SingleStatementReaders
    let logger: Logger

    /// How a command uses the registry.
    public enum Access: Sendable {
        /// Creates and migrates the database as needed; reads and writes.
        case readWrite
        /// Reads only: never takes the write lock, so it never waits on a writer (WAL). Falls back to
        /// `readWrite` when the database does not exist yet or needs a migration.
        case readOnly
    }

    /// Whether this handle was opened read-only.
    public let isReadOnly: Bool

    /// Opens (creating it and its folder if needed) the database at `path` and migrates it.
    public init(path: String, access: Access = .readWrite, logger: Logger = Logger(label: "agenthub.registry")) throws(RegistryError) {
        self.path = path
        self.logger = logger
        singleStatementReaders = SingleStatementReaders(path: path)
        if access == .readOnly, FileManager.default.fileExists(atPath: path),
           let pool = try? Self.openPool(path, readOnly: true),
           (try? pool.read { try RegistryMigrations.migrator.hasCompletedMigrations($0) }) == true {
            self.pool = pool
            isReadOnly = true
            return
        }
        isReadOnly = false
        try Self.prepareFile(path)
        // Several processes opening a fresh registry at once (three hosts, a host and `agenthub mcp`)
        // must not race its migrations: one migrates under an exclusive lock, the others wait for it
        // and then find nothing left to do.
        let lock = try MigrationLock(databasePath: path)
        defer { lock.release() }
        pool = try Self.openPool(path, readOnly: false)
        do {
            try RegistryMigrations.migrator.migrate(pool)
        } catch {
            throw RegistryError(.migration, "cannot migrate the registry database \(path): \(error)")
        }
    }

    private static func openPool(_ path: String, readOnly: Bool) throws(RegistryError) -> DatabasePool {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.readonly = readOnly
        config.prepareDatabase { db in
            // 16 MiB of page cache per connection (SQLite's default is 2 MiB): a memory search looks up
            // a few hundred chunks and their memories, and each lookup that misses the cache is a read
            // of a page from the OS (15 µs a lookup with the default at 30k memories, 7 µs with this).
            try db.execute(sql: "PRAGMA cache_size = -16384")
            if !readOnly { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        do {
            return try DatabasePool(path: path, configuration: config)
        } catch {
            throw RegistryError(.database, "cannot open the registry database \(path): \(error)")
        }
    }

    /// Checks that `path` names a file, and creates it 0600 (and a missing folder 0700) before
    /// SQLite does: the registry holds memories and traces, and SQLite gives its WAL and shared-memory
    /// files the database file's permissions.
    static func prepareFile(_ path: String) throws(RegistryError) {
        let name = PathText.lastComponent(path)
        guard !path.isEmpty, !path.utf8.contains(0), !path.hasSuffix("/"), name != ".", name != "..", name != "/" else {
            throw RegistryError(.io, "the registry database path '\(path)' does not name a file (host.database)")
        }
        let folder = PathText.parent(path)
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw RegistryError(.io, "cannot create the database folder \(folder): \(error.localizedDescription)")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
        } else if errno == EISDIR || (errno == EEXIST && Self.isDirectory(path)) {
            throw RegistryError(.io, "the registry database path '\(path)' is a folder (host.database)")
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Runs `body` in one write transaction, turning database errors into `RegistryError`s that name the file.
    /// `what` is made only when it fails (it names the row, and most calls succeed).
    func write<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        try naming(what()) { try pool.write(body) }
    }

    func read<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        try naming(what()) { try pool.read(body) }
    }

    /// `read` for a body that runs one statement: outside a transaction, on a connection outside the pool.
    func readOneStatement<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        try naming(what()) { try singleStatementReaders.read(body) }
    }

    /// `access`, its database errors made `RegistryError`s that name the file and `what` was done.
    private func naming<T>(_ what: @autoclosure () -> String, _ access: () throws -> T) throws(RegistryError) -> T {
        do { return try access() } catch let error as RegistryError { throw error } catch {
            throw RegistryError(.database, "\(path): \(what()) failed: \(error)")
        }
    }

    /// `PRAGMA integrity_check`, as SQLite reports it (`ok` when healthy).
    public func integrityCheck() throws(RegistryError) -> String {
        try read("integrity check") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
