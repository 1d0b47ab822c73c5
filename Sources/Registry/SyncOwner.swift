import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is syncing a source: `host:pid:nonce`, written with the lease and with the `syncing` status,
/// so a reader can tell a sync in progress from one whose process was killed.
public enum SyncOwner {
    /// This process, as leases and bridged server status name it: `host:pid:nonce`.
    public static let thisProcess = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"

    /// Whether the process named by `owner` may still be running: false only when it is on this
    /// machine and its pid is gone. Another machine's process is given the benefit of the doubt.
    public static func mayBeAlive(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":")
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]) else { return true }
        return !(kill(pid, 0) != 0 && errno == ESRCH)
    }

    /// The owner recorded in a `syncing` status reason (`syncing in OWNER`).
    public static func owner(inReason reason: String?) -> String? {
        guard let reason, reason.hasPrefix(reasonPrefix) else { return nil }
        return String(reason.dropFirst(reasonPrefix.count))
    }

    public static let reasonPrefix = "syncing in "
}
