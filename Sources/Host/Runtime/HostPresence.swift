import Base
import Core
import Foundation
import Logging
import Registry
import ServiceLifecycle

/// One process as the kernel knows it: its pid and when it started, which together survive pid reuse.
public struct ProcessIdentity: Sendable, Equatable {
    public var pid: Int32
    public var startTicks: String

    public static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTicks: startTicks(of: pid) ?? "0")
    }

    /// `pid@ticks`, the id a host records itself under.
    public var id: String { "\(pid)@\(startTicks)" }

    /// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot. Nil when
    /// there is no such process.
    public static func startTicks(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name (which may hold spaces and parentheses) come fields 3, 4, …
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// Whether the host a record describes still runs: the same pid, started at the same moment, and
    /// running the command it recorded (`serve`, `mcp`), so a forged row cannot make `agenthub
    /// reload` signal another program.
    public static func isRunning(_ host: HostRecord) -> Bool {
        guard startTicks(of: host.pid) == host.startTicks,
              let cmdline = FileManager.default.contents(atPath: "/proc/\(host.pid)/cmdline") else { return false }
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.dropFirst().contains(host.kind)
    }
}

/// Records this host in the registry while it runs (pid, start, kind, manifest revision, every
/// reload's outcome, where it listens), so `agenthub reload` can reach it and `agenthub status` show
/// it; says it is alive every few seconds; removes the record when it stops.
public final class HostPresence: Service, Sendable {
    public let identity = ProcessIdentity.current
    let state: HostState
    let kind: String
    let logger: Logger
    let heartbeat: Duration
    private let http = LockedValue<String?>(nil)

    public init(state: HostState, kind: String, logger: Logger, heartbeat: Duration = .seconds(5)) {
        self.state = state
        self.kind = kind
        self.logger = logger
        self.heartbeat = heartbeat
        let registry = state.registry
        let id = identity.id
        state.onReport { report in
            Self.writes.async {
                do throws(RegistryError) {
                    try registry.recordReload(host: id, revision: report.revision, trigger: report.trigger.rawValue,
                                              result: report.result.rawValue, message: report.message, errors: report.errors, at: report.at)
                } catch {
                    logger.warning("could not record the reload", metadata: ["host.error": "\(error.message)"])
                }
            }
        }
    }

    /// Where the HTTP listener listens, once it does.
    public func listening(at address: String) {
        http.value = address
        let registry = state.registry, id = identity.id
        Self.writes.async { try? registry.heartbeat(host: id, http: address, at: Date()) }
    }

    /// Where presence writes run when their caller cannot wait (a ledger call blocks its thread).
    static let writes = DispatchQueue(label: "agenthub.host-presence")

    public func run() async throws {
        let registry = state.registry
        guard !registry.isReadOnly else { try? await gracefulShutdown(); return }
        let record = HostRecord(id: identity.id, pid: identity.pid, startTicks: identity.startTicks, kind: kind, config: state.configPath,
                                startedAt: Date(), revision: state.snapshot.revision, http: http.value)
        let registered: RegistryError? = await onThread {
            do throws(RegistryError) { try registry.registerHost(record); return nil } catch { return error }
        }
        if let registered {
            logger.warning("could not record this host in the registry; agenthub reload and status will not see it",
                           metadata: ["host.error": "\(registered.message)"])
        }
        // Rows of hosts that died without removing themselves, and the tasks they were running.
        _ = await onThread { try? registry.removeGoneHosts(isRunning: ProcessIdentity.isRunning) }
        let tasks = state.parts.tasks
        await tasks.sweep()
        var beats = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { [heartbeat] in try await Task.sleep(for: heartbeat) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let id = identity.id
            let http = self.http.value
            await Self.write(within: .seconds(1)) { try? registry.heartbeat(host: id, http: http, at: Date()) }
            // Across machines no pid can be asked: every host, at each beat, releases the leases of
            // hosts that stopped heartbeating, so a source a killed host was syncing is synced again.
            if !registry.hostsAreLocal {
                await Self.write(within: .seconds(1)) { _ = try? registry.removeGoneHosts(isRunning: ProcessIdentity.isRunning) }
            }
            beats += 1
            if beats % 6 == 0 { _ = await finishes(within: .seconds(2)) { await tasks.sweep() } }
        }
        // Another process may hold the registry: wait a moment, not its busy timeout (a row left behind
        // is recognised as a dead host by the next reader).
        let id = identity.id
        await Self.write(within: .seconds(1)) { try? registry.removeHost(id) }
    }

    /// Runs a registry write on a thread of its own and waits for it at most `limit`: while another
    /// process holds the registry, the service still answers shutdown at once (the write finishes,
    /// or fails, on its own).
    static func write(within limit: Duration, _ body: @escaping @Sendable () -> Void) async {
        _ = await finishes(within: limit) { await onThread(body) }
    }
}

extension HostDirectory {
    /// The hosts on `registry`: on one machine alive while their pid runs, across machines while they
    /// heartbeat (six missed beats make a host gone).
    public init(registry: any RegistryStore) {
        let heartbeating: @Sendable (HostRecord) -> Bool = { host in Date().timeIntervalSince(host.heartbeatAt) < 30 }
        let local: @Sendable (HostRecord) -> Bool = { host in ProcessIdentity.isRunning(host) }
        self.init(store: registry, isRunning: registry.hostsAreLocal ? local : heartbeating)
    }
}
