import ArgumentParser
import Foundation
import GitSync
import Base
import Core
import Host
import Plugins
import Synchronization

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync sources into the registry now and wait (git repositories, local folders, bridged servers' skills).",
        discussion: """
            Sources sync at most sync.max_concurrent at a time; each git fetch ends at its timeout. A stalled \
            source (a configuration error) is retried when named here. Shows fetch progress on a terminal. \
            The bridged servers that mcp sources name are started for the sync and stopped after it. \
            Exit 1 when a source failed or stalled, or its publish was held back.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Sync only this source.")
    var source: String?

    @Flag(name: .long, help: "Publish even when more than max_vanished of a source's skills disappear at once.")
    var acceptRemovals = false

    func run() async throws {
        let context = try await options.context()
        if let source {
            do { _ = try context.syncer.source(named: source) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
        }
        let display = ProgressDisplay(enabled: !options.json && isatty(STDERR_FILENO) == 1)
        var syncer = context.syncer
        // The servers mcp sources take skills from run for this sync only.
        let chosen = context.manifest.sources.filter { source == nil || $0.name == source }
        let needed = Set(chosen.compactMap { s -> String? in if case .mcp(let server) = s.location { server } else { nil } })
        let bridge: MCPBridge? = needed.isEmpty ? nil : MCPBridge(
            servers: ToolHost.bridgedServers(context.manifest, environment: context.environment).filter { needed.contains($0.name) },
            settings: ToolHost.bridgeSettings(context.manifest, environment: context.environment), registry: nil,
            logins: context.registry.pins, logger: context.logger)
        if let bridge {
            try await bridge.start()
            await bridge.settle(timeout: bridge.longestStartTimeout + .seconds(1))
            syncer.skillServers = bridge
        }
        let service = SyncService(syncer: syncer, acceptRemovals: acceptRemovals, logsWarnings: false) { name, event in
            display.show(name, event)
        }
        let results = await service.syncNow(source.map { [$0] })
        await bridge?.stop()
        display.clear()
        if options.json {
            Output.json(results)
        } else {
            Output.table(["SOURCE", "OUTCOME", "REVISION", "SKILLS", "ADDED", "UPDATED", "REMOVED", "ROWS", "SECONDS"], results.map { r in
                [r.source, r.outcome.rawValue + (r.failureKind.map { " (\($0.rawValue))" } ?? ""), Output.short(r.revision), "\(r.skills)",
                 "\(r.report?.added ?? 0)", "\(r.report?.updated ?? 0)", "\(r.report?.removed ?? 0)", "\(r.report?.rowsWritten ?? 0)",
                 String(format: "%.3f", r.seconds)]
            })
            for r in results {
                for warning in r.report?.warnings ?? [] { print("warning: \(warning)") }
                if r.isFailure || r.outcome == .skipped || r.outcome == .busy, r.report == nil, let message = r.message {
                    print("\(r.outcome.rawValue): \(r.source): \(message)")
                }
            }
        }
        if results.contains(where: \.isFailure) { throw ExitCode(1) }
    }
}

/// One status line on stderr, rewritten in place while fetches run.
final class ProgressDisplay: Sendable {
    private struct State {
        var lines: [String: String] = [:]
        var last = Date.distantPast
    }
    private let enabled: Bool
    private let state = Mutex(State())

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ source: String, _ event: FetchEvent) {
        guard enabled, case .progress(let objects, let total, let bytes) = event else { return }
        state.withLock { s in
            s.lines[source] = "\(source) \(objects)/\(total) objects \(ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .binary))"
            guard Date().timeIntervalSince(s.last) > 0.1 else { return }
            s.last = Date()
            let text = s.lines.keys.sorted().compactMap { s.lines[$0] }.joined(separator: " | ")
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + Output.clip(text, 160)).utf8))
        }
    }

    func clear() {
        guard enabled else { return }
        state.withLock { s in
            if !s.lines.isEmpty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}

struct SourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "List sources with their sync status, revision, skill counts and schedule."
    )

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Also list sources no longer in the manifest.") var all = false

    func run() async throws {
        let context = try await options.context(readOnly: true)
        let reports: [SourceReport]
        do { reports = try await context.directory.sources(includingRemoved: all) } catch {
            Output.stderr(error.message)
            throw ExitCode(1)
        }
        if options.json { Output.json(reports.map(\.json)); return }
        Output.table(["SOURCE", "KIND", "STATUS", "REVISION", "SKILLS", "STRICT", "SHADOWED", "TOMBSTONED", "LAST ATTEMPT", "LAST SUCCESS",
                      "FAILURES", "NEXT", "REASON"], reports.map { report in
            let s = report.record
            return [s.name, s.kind.rawValue, report.statusText,
                    Output.short(s.revision), "\(s.loadableCount)", "\(s.strictCount)", "\(s.shadowedCount)", "\(s.tombstonedCount)",
                    Output.date(s.lastTriedAt), Output.date(s.lastSuccessAt), "\(s.consecutiveFailures)", Output.date(s.nextAttemptAt),
                    Output.clip(report.reason ?? "", 80)]
        })
    }
}
