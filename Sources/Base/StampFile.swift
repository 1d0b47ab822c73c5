import Foundation
import Synchronization

/// A file whose identity changes each time a writer touches it: a cheap cross-process "this changed"
/// that readers check with one `stat` (caches keyed by it empty themselves when it moves).
public struct StampFile: Sendable {
    public let path: String
    /// The last identity read and its text: a caller asks on every request (an API key check), and
    /// the file rarely moves, so the text is made only when the identity changed.
    private let last = LastIdentity()

    public init(path: String) { self.path = path }

    /// The stamp next to a database file: `NAME` in the database's folder.
    public init(named name: String, besideDatabase databasePath: String) {
        path = URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The file's identity (inode, size, modification and change times), "" when it is missing.
    public var current: String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "" }
        let identity = Identity(inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                modifiedSeconds: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec),
                                changedSeconds: Int64(info.st_ctim.tv_sec), changedNanoseconds: Int64(info.st_ctim.tv_nsec))
        if let text = last.text(for: identity) { return text }
        let text = "\(identity.inode):\(identity.size):\(identity.modifiedSeconds).\(identity.modifiedNanoseconds):\(identity.changedSeconds).\(identity.changedNanoseconds)"
        last.remember(identity, text)
        return text
    }

    /// What `stat` says of the file that tells one version from another.
    struct Identity: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds, modifiedNanoseconds: Int64
        var changedSeconds, changedNanoseconds: Int64
    }

    final class LastIdentity: Sendable {
        private let stored = Mutex<(identity: Identity, text: String)?>(nil)

        func text(for identity: Identity) -> String? {
            stored.withLock { last in last.flatMap { $0.identity == identity ? $0.text : nil } }
        }

        func remember(_ identity: Identity, _ text: String) { stored.withLock { $0 = (identity, text) } }
    }

    /// Replaces the file (a new inode, by rename), so every reader sees a new stamp.
    public func touch() {
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(UUID().uuidString)\n".utf8),
                                             attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
