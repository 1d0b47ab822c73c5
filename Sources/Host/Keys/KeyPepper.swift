import Crypto
import Foundation

/// The secret every API key hash is keyed with, kept outside the database: a stolen registry file
/// alone does not let anyone test guesses. From `AGENTHUB_KEY_PEPPER` when set, else from a file
/// next to the database (`key-pepper`, mode 0600), which the first command that needs it creates.
public enum KeyPepper {
    public static let environmentVariable = "AGENTHUB_KEY_PEPPER"
    public static let fileName = "key-pepper"

    /// The pepper for a registry whose pepper file sits in `folder`; a registry without one (PostgreSQL,
    /// several hosts) needs the variable, the same on every host.
    public static func load(folder: String?, place: String, environment: [String: String]) throws(HostError) -> Data {
        if let pepper = try fromEnvironment(environment) { return pepper }
        guard let folder else {
            throw HostError(.keys, "\(place): set \(environmentVariable) (at least 32 characters, the same on every host on this database): it keys every API key hash")
        }
        return try loadFile(URL(fileURLWithPath: folder).appendingPathComponent(fileName).path)
    }

    /// The pepper for the registry at `databasePath`.
    public static func load(databasePath: String, environment: [String: String]) throws(HostError) -> Data {
        try load(folder: URL(fileURLWithPath: databasePath).deletingLastPathComponent().path, place: databasePath, environment: environment)
    }

    /// `AGENTHUB_KEY_PEPPER`, when set.
    static func fromEnvironment(_ environment: [String: String]) throws(HostError) -> Data? {
        guard let value = environment[environmentVariable], !value.isEmpty else { return nil }
        guard value.utf8.count >= 32 else {
            throw HostError(.keys, "\(environmentVariable) must be at least 32 characters (it keys every API key hash); it has \(value.utf8.count)")
        }
        return Data(value.utf8)
    }

    static func loadFile(_ path: String, what: String = "key pepper", remake: String = "every key then needs remaking") throws(HostError) -> Data {
        // Create it if missing, whole or not at all: written to a file of its own, then linked into
        // place (link fails if another process got there first), so a reader never sees half a pepper.
        if access(path, F_OK) != 0 {
            let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw HostError(.keys, "cannot create the \(what) \(path): \(String(cString: strerror(errno)))") }
            defer { unlink(temporary) }
            let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            let text = bytes.map { String(format: "%02x", $0) }.joined() + "\n"
            let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, text.utf8.count) }
            let synced = fsync(fd) == 0
            close(fd)
            guard written == text.utf8.count, synced else { throw HostError(.keys, "cannot write the \(what) \(path): \(String(cString: strerror(errno)))") }
            if link(temporary, path) != 0, errno != EEXIST {
                throw HostError(.keys, "cannot create the \(what) \(path): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw HostError(.keys, "cannot read the \(what) \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw HostError(.keys, "the \(what) \(path) is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw HostError(.keys, "the \(what) \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard text.utf8.count >= 32 else { throw HostError(.keys, "the \(what) \(path) is too short (\(text.utf8.count) characters); delete it to make a new one (\(remake))") }
        return Data(text.utf8)
    }
}
