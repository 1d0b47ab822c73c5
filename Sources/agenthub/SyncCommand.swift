import ArgumentParser
import Host

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync sources into the registry now (local folders; git sources arrive with GitSync).",
        discussion: "Exit 1 when a source failed or its publish was held back."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Sync only this source.")
    var source: String?

    @Flag(name: .long, help: "Publish even when more than max_vanished of a source's skills disappear at once.")
    var acceptRemovals = false

    func run() throws {
        let context = try options.context()
        let results: [SourceSyncResult]
        do { results = try context.syncer.sync(source: source, acceptRemovals: acceptRemovals) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        if options.json {
            Output.json(results)
        } else {
            Output.table(["SOURCE", "OUTCOME", "REVISION", "SKILLS", "ADDED", "UPDATED", "REMOVED", "ROWS", "SECONDS"], results.map { r in
                [r.source, r.outcome.rawValue, Output.short(r.revision), "\(r.skills)", "\(r.report?.added ?? 0)",
                 "\(r.report?.updated ?? 0)", "\(r.report?.removed ?? 0)", "\(r.report?.rowsWritten ?? 0)", String(format: "%.3f", r.seconds)]
            })
            for r in results {
                for warning in r.report?.warnings ?? [] { print("warning: \(warning)") }
                if r.outcome == .failed || r.outcome == .skipped, let message = r.message { print("\(r.outcome.rawValue): \(r.source): \(message)") }
            }
        }
        if results.contains(where: { $0.outcome == .failed || $0.outcome == .held }) { throw ExitCode(1) }
    }
}

struct SourcesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "List sources with their sync status, revision and skill count."
    )

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let context = try options.context()
        let sources = try context.registry.sources()
        if options.json { Output.json(sources); return }
        Output.table(["SOURCE", "KIND", "STATUS", "REVISION", "SKILLS", "LAST SUCCESS", "FAILURES", "REASON"], sources.map { s in
            [s.name, s.kind.rawValue, s.status, Output.short(s.revision), "\(s.skillCount)", Output.date(s.lastSuccessAt),
             "\(s.consecutiveFailures)", Output.clip(s.statusReason ?? "", 80)]
        })
    }
}
