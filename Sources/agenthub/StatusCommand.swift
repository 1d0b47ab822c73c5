import ArgumentParser
import Base
import Foundation
import Core
import Host
import Plugins

/// `agenthub status`: the hosts on this registry (running, or gone without removing themselves), then
/// a summary of the sources and the bridged servers.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the hosts, running or gone (pid, uptime, manifest revision, last reload and its errors), the sources and the bridged servers.",
        discussion: "Exit 0, or 1 when a running host's last reload was rejected or a source has failed."
    )

    @OptionGroup var global: GlobalOptions

    struct HostLine: Encodable {
        /// `running`, or `gone`: it stopped heartbeating (or its pid is gone) without removing itself.
        var state: String
        var pid: Int32
        var kind: String
        var config: String
        var startedAt: Date
        var uptimeSeconds: Int
        var revision: String
        var http: String?
        var reloads: Int
        var lastReload: LastReload?
    }
    struct LastReload: Encodable {
        var at: Date?
        var trigger: String?
        var result: String?
        var message: String?
        var errors: [String]
    }
    struct ServerLine: Encodable {
        var server: String
        var state: String
        var hostPid: String?
        var tools: Int
        var restarts: Int
        var lastExit: String?
    }
    struct Status: Encodable {
        var manifestRevision: String?
        var manifestErrors: [String]
        var hosts: [HostLine]
        /// Each source in its one JSON shape (`SourceReport.json`), as `agenthub sources --json` and the API give it.
        var sources: [JSONValue]
        var servers: [ServerLine]
    }

    func run() async throws {
        let found = try await global.hostDirectory()
        var reports: [SourceReport] = []
        var status = Status(manifestRevision: nil, manifestErrors: [], hosts: [], sources: [], servers: [])
        do { status.manifestRevision = try ManifestLoader.loadWithRevision(path: global.config).revision } catch {
            status.manifestErrors = error.problems
        }
        do {
            let now = Date()
            status.hosts = try await found.hosts.hosts().map { host, running in
                HostLine(state: running ? "running" : "gone", pid: host.pid, kind: host.kind, config: host.config, startedAt: host.startedAt,
                         uptimeSeconds: Int(now.timeIntervalSince(host.startedAt)), revision: host.revision, http: host.http, reloads: host.reloads,
                         lastReload: host.lastReloadAt.map { at in
                             LastReload(at: at, trigger: host.lastReloadTrigger, result: host.lastReloadResult, message: host.lastReloadMessage,
                                        errors: host.lastReloadErrors ?? [])
                         })
            }
            reports = try await found.sources.sources()
            status.sources = reports.map(\.json)
            status.servers = try await found.hosts.bridgeServers().filter(\.ownerMayBeAlive).compactMap { record in
                guard let s = BridgedServerStatus.decode(record.status) else { return nil }
                return ServerLine(server: s.server, state: s.state.rawValue, hostPid: record.owner.split(separator: ":").dropFirst().first.map(String.init),
                                  tools: s.toolCount, restarts: s.restarts, lastExit: s.lastExit)
            }
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        if global.json { Output.json(status) } else { printTables(status, reports) }
        let rejected = status.hosts.contains { $0.state == "running" && $0.lastReload?.result == "rejected" }
        if rejected || reports.contains(where: \.isFailing) { throw ExitCode(1) }
    }

    private func printTables(_ status: Status, _ reports: [SourceReport]) {
        print("manifest \(global.config): \(status.manifestRevision.map { "revision \($0)" } ?? "has problems")")
        for error in status.manifestErrors { print("  \(error)") }
        print("")
        if !status.hosts.contains(where: { $0.state == "running" }) { print("no host is running on this registry") }
        if !status.hosts.isEmpty {
            Output.table(["PID", "STATE", "KIND", "UP", "REVISION", "HTTP", "RELOADS", "LAST RELOAD"], status.hosts.map { h in
                [String(h.pid), h.state, h.kind, Self.duration(h.uptimeSeconds), h.revision, h.http ?? "-", String(h.reloads),
                 h.lastReload.map { "\($0.result ?? "-") (\($0.trigger ?? "-"), \(Output.date($0.at)))" } ?? "-"]
            })
            for host in status.hosts where host.state == "running" {
                guard let reload = host.lastReload, !reload.errors.isEmpty else { continue }
                print("pid \(host.pid) rejected the last reload; it serves revision \(host.revision):")
                for error in reload.errors { print("  \(error)") }
            }
        }
        print("")
        Output.table(["SOURCE", "STATUS", "REVISION", "SKILLS", "LAST SUCCESS", "NEXT", "FAILURES"], reports.map { report in
            let s = report.record
            return [s.name, report.statusText, Output.short(s.revision), String(s.loadableCount), Output.date(s.lastSuccessAt),
                    Output.date(s.nextAttemptAt), String(s.consecutiveFailures)]
        })
        if !status.servers.isEmpty {
            print("")
            Output.table(["SERVER", "STATE", "HOST PID", "TOOLS", "RESTARTS", "LAST EXIT"], status.servers.map { s in
                [s.server, s.state, s.hostPid ?? "-", String(s.tools), String(s.restarts), Output.clip(s.lastExit ?? "-", 60)]
            })
        }
    }

    static func duration(_ seconds: Int) -> String {
        seconds < 60 ? "\(seconds)s" : seconds < 3600 ? "\(seconds / 60)m" : seconds < 86400 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : "\(seconds / 86400)d"
    }
}
