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
            guard old.argumentsComplete, let arguments = JSONValue.parse(old.arguments) else {
                Output.stderr("error: task \(old.id) cannot be retried: its stored arguments were redacted or cut (they held secrets or were large); call the tool again")
                throw ExitCode(1)
            }
            let context = try await global.context()
            let tools = try global.toolHost(context)
            guard let runner = tools.tasks else { Output.stderr("error: no task runner"); throw ExitCode(1) }
            let caller = ToolCaller(agent: old.agent, role: old.role, group: old.group)
            guard tools.router.verdict(for: old.tool, caller: caller).isVisible else {
                Output.stderr("error: \(old.agent) may no longer call \(old.tool) under today's policy; not retried")
                throw ExitCode(1)
            }
            let router = tools.router, session = old.session, name = old.tool
            let call = TaskCall(tool: name, arguments: arguments, caller: caller, session: session, retryOf: old.id) { approval, progress, timeout in
                await router.call(name, arguments: arguments, caller: caller, session: session, progress: progress, approval: approval, timeout: timeout)
            }
            let ended: TaskRecord = try await tools.withServers(for: name) {
                let started = try await runner.start(call, settings: tools.taskPlan(for: name).settings, inlineWithin: nil)
                guard case .task(let record) = started else { throw CoreError(.storage, "the task did not start") }
                Output.stderr("retrying \(old.id) as \(record.id)")
                while true {
                    let now = try await runner.task(record.id, agent: record.agent)
                    if now.status.isTerminal { return now }
                    try await Task.sleep(for: .milliseconds(200))
                }
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
