import Foundation
import GRDB
import Logging

/// The registry: one SQLite file (WAL, a `DatabasePool`) holding sources, skills, their files,
/// sync history and the full-text index. One `Sendable` value owns the pool and the migrator.
public struct RegistryDatabase: Sendable {
    public let path: String
    let pool: DatabasePool
    let logger: Logger

    /// Opens (creating it and its folder if needed) the database at `path` and migrates it.
    public init(path: String, logger: Logger = Logger(label: "agenthub.registry")) throws(RegistryError) {
        self.path = path
        self.logger = logger
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw RegistryError(.io, "cannot create the database folder \(folder): \(error.localizedDescription)")
            }
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw RegistryError(.database, "cannot open the registry database \(path): \(error)")
        }
        do {
            try RegistryMigrations.migrator.migrate(pool)
        } catch {
            throw RegistryError(.migration, "cannot migrate the registry database \(path): \(error)")
        }
    }

    /// Runs `body` in one write transaction, turning database errors into `RegistryError`s that name the file.
    func write<T>(_ what: String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try pool.write(body) } catch let error as RegistryError { throw error } catch {
            throw RegistryError(.database, "\(path): \(what) failed: \(error)")
        }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try pool.read(body) } catch let error as RegistryError { throw error } catch {
            throw RegistryError(.database, "\(path): \(what) failed: \(error)")
        }
    }

    /// `PRAGMA integrity_check`, as SQLite reports it (`ok` when healthy).
    public func integrityCheck() throws(RegistryError) -> String {
        try read("integrity check") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
