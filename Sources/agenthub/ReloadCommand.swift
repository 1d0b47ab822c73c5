import ArgumentParser
import Foundation
import Host
import Core

/// `agenthub reload`: asks every host running on the manifest's registry to reload it (SIGHUP), and
/// prints what each one did.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the manifest in every running host (agenthub serve, agenthub mcp) and print each one's result.",
        discussion: """
            Hosts record themselves in the registry; each is sent SIGHUP and its result is awaited. A host that \
            rejects the manifest keeps serving its last good one and reports every problem as FILE:LINE:COL. \
            Exit 0 when every host applied the manifest (or it was unchanged), 1 when one rejected it or did \
            not answer in time (or the manifest has problems and no host runs).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Seconds to wait for each host's answer.")
    var timeout: Double = 10

    struct HostResult: Encodable {
        var pid: Int32
        var kind: String
        var http: String?
        var result: String
        var revision: String?
        var message: String
        var errors: [String]
    }

    func run() async throws {
        let directory = try await global.hostDirectory().hosts
        let hosts: [HostRecord]
        do { hosts = try await directory.runningHosts() } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        if hosts.isEmpty {
            // Nothing to reach: still say whether the manifest would load.
            do {
                _ = try ManifestLoader.load(path: global.config)
                if global.json { Output.json([HostResult]()) } else { print("no host is running on this registry; the manifest is valid") }
                return
            } catch {
                Output.stderr("no host is running on this registry, and the manifest has problems:")
                Output.fail(error)
                throw ExitCode(1)
            }
        }
        let before = Dictionary(hosts.map { ($0.id, $0.reloads) }, uniquingKeysWith: { first, _ in first })
        var signalled: [HostRecord] = []
        var results: [String: HostResult] = [:]
        for host in hosts {
            if kill(host.pid, SIGHUP) == 0 { signalled.append(host) } else {
                results[host.id] = HostResult(pid: host.pid, kind: host.kind, http: host.http, result: "unreachable", revision: host.revision,
                                              message: "cannot signal pid \(host.pid): \(String(cString: strerror(errno)))", errors: [])
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        var waiting = signalled
        while !waiting.isEmpty, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            var still: [HostRecord] = []
            for host in waiting {
                guard let now = try? await directory.host(host.id), now.reloads > (before[host.id] ?? 0) else {
                    still.append(host)
                    continue
                }
                results[host.id] = HostResult(pid: host.pid, kind: host.kind, http: now.http, result: now.lastReloadResult ?? "applied", revision: now.revision,
                                              message: now.lastReloadMessage ?? "", errors: now.lastReloadErrors ?? [])
            }
            waiting = still
        }
        for host in waiting {
            results[host.id] = HostResult(pid: host.pid, kind: host.kind, http: host.http, result: "timeout", revision: host.revision,
                                          message: "no answer within \(timeout)s", errors: [])
        }
        let ordered = hosts.compactMap { results[$0.id] }
        if global.json {
            Output.json(ordered)
        } else {
            for result in ordered {
                print("pid \(result.pid) (\(result.kind)\(result.http.map { " \($0)" } ?? "")): \(result.result): \(result.message)")
                for error in result.errors { print("  \(error)") }
            }
        }
        if ordered.contains(where: { $0.result != "applied" && $0.result != "unchanged" }) { throw ExitCode(1) }
    }
}
