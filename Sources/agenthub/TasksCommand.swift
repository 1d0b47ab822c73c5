import ArgumentParser
import Base
import Core
import Foundation
import Host
import Plugins

/// `agenthub tasks`: tool calls that run as tasks (MCP clients with the Tasks extension,
/// `Prefer: respond-async` over HTTP): list, show, cancel, retry.
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List, show, cancel and retry tool calls that run as tasks.",
        discussion: """
            A task is kept until router.task_ttl after it started. Cancelling asks the host running it to \
            stop the call (within a second, from any process). Retrying runs the same tool with the same \
            arguments as a new task, under today's policy, here, and waits for it.
            """,
        subcommands: [List.self, Show.self, Cancel.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tasks, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only tasks with this status: working, input_required, completed, failed, cancelled.")
        var status: String?
        @Option(name: .long, help: "Only this agent's tasks.")
        var agent: String?
        @Option(name: .long, help: "At most this many (1 to 1000).")
        var limit = 200

        func run() async throws {
            var wanted: TaskStatus?
            if let status {
                guard let parsed = TaskStatus(rawValue: status) else {
                    Output.stderr("error: --status must be one of working, input_required, completed, failed, cancelled; found '\(status)'")
                    throw ExitCode(64)
                }
                wanted = parsed
            }
            guard (1...1000).contains(limit) else {
                Output.stderr("error: --limit must be from 1 to 1000, found \(limit)")
                throw ExitCode(64)
            }
            let runner = try await TasksCommand.runner(global)
            let records: [TaskRecord]
            do { records = try await runner.tasks(agent: agent, status: wanted, limit: limit) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            if global.json { print(JSONValue.array(records.map(\.json)).jsonText); return }
            if records.isEmpty { Output.stderr("no tasks"); return }
            Output.table(["ID", "STATUS", "TOOL", "AGENT", "CREATED", "UPDATED", "MESSAGE"], records.map {
                [$0.id, $0.status.rawValue, $0.tool, $0.agent, Output.date($0.createdAt), Output.date($0.updatedAt), Output.clip($0.statusMessage ?? "", 60)]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One task: its status, arguments, and result or error.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The task's id.") var id: String

        func run() async throws {
            let record = try await TasksCommand.find(global, id)
            print(global.json ? record.json.jsonText : TasksCommand.describe(record))
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask the host running a task to stop it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The task's id.") var id: String

        func run() async throws {
            let runner = try await TasksCommand.runner(global)
            let record: TaskRecord
            do { record = try await runner.cancel(id, agent: nil) } catch {
                Output.fail(error)
                throw ExitCode(1)
            }
            if global.json { print(record.json.jsonText); return }
            print(record.status.isTerminal ? "\(record.id) had already ended: \(record.status.rawValue)"
                                           : "\(record.id): cancellation asked; its host stops the call within a second")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a task's call again as a new task, under today's policy, and wait for it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The task's id.") var id: String

        func run() async throws {
            let old = try await TasksCommand.find(global, id)
            let context = try await global.context()
            let tools = try global.toolHost(context)
            // A declared agent runs as today's manifest declares it (its role may have changed); another as the task recorded it.
            let declared = context.manifest.agents.contains { $0.name == old.agent }
            let caller: ToolCaller
            do { caller = try tools.identity.caller(agent: old.agent, role: declared ? nil : old.role, group: declared ? nil : old.group) } catch {
                Output.stderr("error: \(error.message); not retried")
                throw ExitCode(1)
            }
            guard let runner = tools.tasks else { Output.stderr("error: no task runner"); throw ExitCode(1) }
            let ended: TaskRecord
            do {
                ended = try await tools.withServers(for: old.tool) {
                    let record = try await tools.retryTask(old, caller: caller)
                    Output.stderr("retrying \(old.id) as \(record.id)")
                    while true {
                        let now = try await runner.task(record.id, agent: record.agent)
                        if now.status.isTerminal { return now }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            } catch let error as CoreError {
                Output.stderr("error: \(error.message)")
                throw ExitCode(1)
            }
            await tools.router.recorder.flush()
            print(global.json ? ended.json.jsonText : TasksCommand.describe(ended))
            if ended.status != .completed { throw ExitCode(1) }
        }
    }

    static func runner(_ global: GlobalOptions) async throws -> TaskRunner {
        let context = try await global.context()
        return TaskRunner(store: context.registry, approvals: context.approvalDesk(), logger: context.logger)
    }

    static func find(_ global: GlobalOptions, _ id: String) async throws -> TaskRecord {
        let runner = try await runner(global)
        do { return try await runner.task(id, agent: nil) } catch {
            Output.stderr("error: no task '\(id)' (tasks are kept for router.task_ttl): \(error.message)")
            throw ExitCode(1)
        }
    }

    static func describe(_ r: TaskRecord) -> String {
        var lines = ["task \(r.id): \(r.status.rawValue)" + (r.statusMessage.map { " (\($0))" } ?? ""),
                     "  tool \(r.tool), agent \(r.agent), session \(r.session)",
                     "  created \(Output.date(r.createdAt)), updated \(Output.date(r.updatedAt)), kept until \(Output.date(r.expiresAt))",
                     "  arguments \(r.arguments)"]
        if let retryOf = r.retryOf { lines.append("  retries \(retryOf)") }
        if let approval = r.approvalId { lines.append("  waits for approval \(approval)") }
        if let result = r.result { lines.append("  result \(result)") }
        if let error = r.error { lines.append("  error \(error)") }
        return lines.joined(separator: "\n")
    }
}
