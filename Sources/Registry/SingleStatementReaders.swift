import GRDB
import Synchronization

/// Read-only connections for a read that is one statement (a row by its id). The statement runs
/// outside any transaction (SQLite reads one statement from one snapshot on its own), on a
/// connection taken from a free list. `DatabasePool.read` pays for a transaction around it (BEGIN
/// and COMMIT) and for its pool's bookkeeping (a lock, and a key path its generic pool makes at run
/// time on every read): about half of a `memory_get` on these machines.
final class SingleStatementReaders: Sendable {
    private let path: String
    /// Connections kept open for the next read; more are opened while every kept one is busy.
    let keep: Int
    private let idle = Mutex<[DatabaseQueue]>([])

    init(path: String, keep: Int = 8) {
        self.path = path
        self.keep = keep
    }

    /// How many idle connections are kept now.
    var keptCount: Int { idle.withLock { $0.count } }

    /// Runs `body` (one statement) on an idle read-only connection.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() } ?? open()
        defer { idle.withLock { if $0.count < keep { $0.append(connection) } } }
        return try connection.inDatabase(body)
    }

    private func open() throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        config.label = "agenthub.single-statement-reader"
        return try DatabaseQueue(path: path, configuration: config)
    }
}
