import Base
import ArgumentParser
import Core
import Foundation
import Host

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print trace events (tool calls) from the registry, oldest first.",
        discussion: "Without --limit every matching event is printed. With --limit one page is printed and the cursor for the next page goes to stderr.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only this session's events.")
    var session: String?

    @Option(name: .long, help: "Only this agent's events.")
    var agent: String?

    @Option(name: .long, help: "Only events after this event id.")
    var since: Int64 = 0

    @Option(name: .long, help: "Only these event types (tool.called, tool.result, tool.failed, tool.blocked, approval.requested, …; repeat or comma-separate).")
    var type: [String] = []

    @Option(name: .long, help: "Print one page of at most this many events.")
    var limit: Int?

    @Option(name: .long, help: "json (an array, the default) or jsonl (one event per line).")
    var format = "json"

    func validate() throws {
        guard format == "json" || format == "jsonl" else { throw ValidationError("--format must be json or jsonl") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        for name in types where !TraceEvent.knownTypes.contains(name) {
            let hint = Suggestion.closest(to: name, in: TraceEvent.knownTypes).map { "; did you mean '\($0)'?" } ?? ""
            throw ValidationError("--type '\(name)' is not an event type\(hint) (types: \(TraceEvent.knownTypes.joined(separator: ", ")))")
        }
    }

    /// The types asked for, comma-separated or repeated.
    var types: [String] { type.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty } }

    func run() async throws {
        let context = try await global.context(readOnly: true)
        var query = TraceQuery(session: session, agent: agent, afterId: since, types: types, limit: min(limit ?? 5000, 5000))
        var all: [TraceEvent] = []
        do {
            while true {
                let page = try await context.events.page(query)
                if format == "jsonl" {
                    for event in page { print(event.json.jsonText) }
                } else {
                    all += page
                }
                guard let last = page.last else { break }
                query.afterId = last.id
                if limit != nil {
                    if page.count == query.limit { Output.stderr("next cursor: --since \(last.id)") }
                    break
                }
                if page.count < query.limit { break }
            }
        } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        if format == "json" { Output.json(JSONValue.array(all.map(\.json))) }
    }
}
