import Foundation

/// A file whose identity changes each time a writer touches it: a cheap cross-process "this changed"
/// that readers check with one `stat` (caches keyed by it empty themselves when it moves).
public struct StampFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The stamp next to a database file: `NAME` in the database's folder.
    public init(named name: String, besideDatabase databasePath: String) {
        path = URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The file's identity (inode, size, modification and change times), "" when it is missing.
    public var current: String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "" }
        return "\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// Replaces the file (a new inode, by rename), so every reader sees a new stamp.
    public func touch() {
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(UUID().uuidString)\n".utf8),
                                             attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
