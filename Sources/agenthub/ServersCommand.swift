import ArgumentParser
import Base
import Core
import Foundation
import Host
import Plugins

/// `agenthub servers`: the bridged MCP servers as the running hosts see them. Each `agenthub mcp`
/// and `agenthub serve` runs its own servers and records their status in the registry.
struct ServersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers",
        abstract: "Show the bridged MCP servers; log in to remote ones that use OAuth.",
        subcommands: [ServersStatus.self, ServersLogin.self, ServersLogout.self],
        defaultSubcommand: ServersStatus.self
    )
}

struct ServersStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each bridged MCP server: state, pid, protocol, tools, restarts, last exit, stderr.",
        discussion: """
            Every running host (agenthub serve, agenthub mcp) records the servers it runs; one row per server and host. \
            A server no host is running shows as stopped, with what the last host that ran it saw; one no host \
            has run yet shows as 'not started'. Exit 0, or 1 when a running host reports a server failed.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Show the last lines each server wrote on stderr.")
    var stderr = false

    func run() async throws {
        let context = try await global.context(readOnly: true)
        let records: [BridgeServerRecord]
        do { records = try await context.hosts.bridgeServers() } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        struct Row { var status: BridgedServerStatus; var host: String?; var running: Bool }
        var rows: [Row] = []
        for server in context.manifest.plugins.mcp?.servers ?? [] {
            let mine = records.filter { $0.server == server.name }
            let live = mine.filter(\.ownerMayBeAlive)
            for record in live {
                if let status = BridgedServerStatus.decode(record.status) { rows.append(Row(status: status, host: Self.pid(record.owner), running: true)) }
            }
            if live.isEmpty {
                if let last = mine.first, var status = BridgedServerStatus.decode(last.status) {
                    status.state = .stopped
                    status.pid = nil
                    rows.append(Row(status: status, host: nil, running: false))
                } else {
                    rows.append(Row(status: BridgedServerStatus(server: server.name, state: .stopped, since: .distantPast), host: nil, running: false))
                }
            }
        }
        // Who has logged in to each OAuth server (names only: the logins stay sealed).
        var logins: [String: [String]] = [:]
        for server in context.manifest.plugins.mcp?.servers ?? [] where server.remote?.oauth != nil {
            logins[server.name] = (try? context.registry.pins?.bridgeCredentialAgents(server: server.name).map(\.agent)) ?? []
        }
        if global.json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let items: [JSONValue] = rows.map { row in
                var value = (try? JSONValue.decode(encoder.encode(row.status))) ?? .null
                if case .object(var o) = value {
                    o["host_pid"] = row.host.map { .string($0) } ?? .null
                    o["host_running"] = .bool(row.running)
                    if let names = logins[row.status.server] { o["logins"] = .array(names.map { .string($0.isEmpty ? "(shared)" : $0) }) }
                    value = .object(o)
                }
                return value
            }
            Output.json(JSONValue.array(items))
        } else if rows.isEmpty {
            Output.stderr("No MCP servers are declared (plugins.mcp.servers in \(context.manifest.file)).")
        } else {
            if !rows.contains(where: \.running) {
                Output.stderr("No running host runs these servers (start one with `agenthub serve` or `agenthub mcp`); showing what the last host saw.")
            }
            Output.table(["SERVER", "STATE", "PID", "HOST", "PROTOCOL", "TOOLS", "RESTARTS", "LAST EXIT"], rows.map { row in
                let s = row.status
                let state = row.running ? s.state.rawValue : (s.since == .distantPast ? "not started" : "stopped")
                return [s.server, state, s.pid.map(String.init) ?? (s.url != nil ? "remote" : "-"), row.host ?? "-", s.protocolVersion ?? "-",
                        String(s.toolCount), String(s.restarts), s.lastExit.map { $0.count > 60 ? String($0.prefix(57)) + "..." : $0 } ?? "-"]
            })
            for row in rows {
                if let url = row.status.url { print("  \(row.status.server): \(url) (\(row.status.transport ?? "HTTP"))") }
                if let names = logins[row.status.server] {
                    let shown = names.map { $0.isEmpty ? "shared" : $0 }
                    print("  \(row.status.server): logged in: \(shown.isEmpty ? "nobody yet (agenthub servers login \(row.status.server))" : shown.joined(separator: ", "))")
                }
                // The whole message, cause included, when the table had to cut it.
                if let exit = row.status.lastExit, exit.count > 60 { print("  \(row.status.server): last exit: \(exit)") }
                for problem in row.status.problems { print("  \(row.status.server): \(problem)") }
                if stderr, !row.status.stderrTail.isEmpty {
                    print("  \(row.status.server) stderr:")
                    for line in row.status.stderrTail { print("    \(line)") }
                }
            }
        }
        if rows.contains(where: { $0.running && $0.status.state == .failed }) { throw ExitCode(1) }
    }

    static func pid(_ owner: String) -> String? {
        let parts = owner.split(separator: ":")
        return parts.count == 3 ? String(parts[1]) : nil
    }
}
