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
    static func owner(inReason reason: String?) -> String? {
        guard let reason, reason.hasPrefix(reasonPrefix) else { return nil }
        return String(reason.dropFirst(reasonPrefix.count))
    }

    static let reasonPrefix = "syncing in "
}

extension SourceRecord {
    /// The status as a reader should show it: `syncing` only while a live process syncs the source.
    /// A sync whose process died (killed mid-sync) shows as `failed (interrupted)`, with the last good
    /// revision still served; the next sync replaces it.
    public var liveStatus: (status: String, failureKind: String?, reason: String?) {
        let now = Date()
        if let owner = leaseOwner, (leaseExpiresAt ?? .distantPast) > now, SyncOwner.mayBeAlive(owner) {
            return ("syncing", nil, "\(SyncOwner.reasonPrefix)\(owner)")
        }
        if status == "syncing" {
            if let owner = SyncOwner.owner(inReason: statusReason), SyncOwner.mayBeAlive(owner) {
                return ("syncing", nil, statusReason)
            }
            let who = SyncOwner.owner(inReason: statusReason).map { " (\($0))" } ?? ""
            return ("failed", SyncFailureKind.interrupted.rawValue,
                    "the sync\(who) ended without finishing (its process was killed or crashed); the last good revision is still served")
        }
        let kind = status == "failed" || status == "stalled" ? failureKind : nil
        return (status, kind, statusReason)
    }
}
