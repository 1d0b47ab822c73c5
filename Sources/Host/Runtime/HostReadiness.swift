import Core
import Foundation
import Plugins
import Registry

/// Whether the host is ready to serve, and why not: what `GET /ready` answers.
public struct HostReadiness: Sendable {
    public var ready: Bool { reasons.isEmpty }
    /// Each thing that keeps it from being ready, as a sentence that names it.
    public var reasons: [String]
    /// The manifest revision serving.
    public var revision: String
    /// The last reload, when there was one (a rejected one does not make the host unready: the last
    /// good manifest serves, but it is shown).
    public var lastReload: ReloadReport?

    /// A bridged server that restarted this many times in a row without settling is crash-looping.
    static let crashLoopRestarts = 3

    public static func check(_ state: HostState) async -> HostReadiness {
        let snapshot = state.snapshot
        var reasons: [String] = []
        if !state.isLoaded {
            let errors = state.lastReload?.errors ?? []
            reasons.append("the manifest has not loaded (\(errors.count) problem\(errors.count == 1 ? "" : "s"); it is watched, and loads once fixed): "
                           + errors.joined(separator: "; "))
        }
        let read: Result<[SourceRecord], RegistryError>
        do throws(RegistryError) { read = .success(try await state.registry.sources()) } catch { read = .failure(error) }
        switch read {
        case .success(let sources):
            let declared = Set(snapshot.manifest.sources.map(\.name))
            for report in sources.map({ SourceReport($0) }) where declared.contains(report.name) && report.record.revision == nil && report.status != .suspended {
                // The status every front shows: a sync whose process died reads as failed (interrupted), not syncing.
                let why = report.reason.map { ": \(report.statusText): \($0)" } ?? " yet"
                reasons.append("source \(report.name) has never synced\(why)")
            }
        case .failure(let error):
            // A database that is down or unreachable makes the host unready, with its words.
            reasons.append("the registry cannot be read: \(error.message)")
        }
        for status in state.parts.bridge.statuses {
            switch status.state {
            case .failed:
                reasons.append("bridged server \(status.server) keeps failing: \(status.lastExit ?? "it ended")")
            case .restarting where status.restarts >= crashLoopRestarts:
                reasons.append("bridged server \(status.server) is crash-looping (\(status.restarts) restarts): \(status.lastExit ?? "it ended")")
            default:
                break
            }
        }
        return HostReadiness(reasons: reasons, revision: snapshot.revision, lastReload: state.lastReload)
    }
}
