import Base
import ArgumentParser
import Foundation
import Host
import Plugins
import Registry

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List, call and explain tools as a given caller sees them.",
        subcommands: [ListTools.self, CallTool.self, ExplainTool.self]
    )
}

/// Who the command acts as.
struct CallerOptions: ParsableArguments {
    @Option(name: .long, help: "The caller's role (from roles: in the manifest).")
    var role: String?

    @Option(name: .long, help: "The caller's group (its role must be a member).")
    var group: String?

    @Option(name: .long, help: "The caller's agent id (an agents: entry supplies its role and group).")
    var agent = "cli"

    func caller(_ tools: ToolHost) throws -> ToolCaller {
        do { return try tools.identity.caller(agent: agent, role: role, group: group) } catch {
            Output.fail(error)
            throw ExitCode(64)
        }
    }
}

extension GlobalOptions {
    func toolHost(_ context: HostContext) throws -> ToolHost {
        do { return try context.tools() } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
    }
}

struct ListTools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the tools a caller may see (allowed, or needing approval).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var who: CallerOptions

    func run() async throws {
        let context = try global.context(readOnly: true)
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let visible = tools.router.tools(for: caller)
        if global.json {
            Output.json(JSONValue.array(visible.map { tool, verdict in
                var o = tool.json.objectValue ?? [:]
                o["decision"] = .string(verdict.decision.rawValue)
                o["risk"] = .string(verdict.risk.rawValue)
                return .object(o)
            }))
        } else if visible.isEmpty {
            Output.stderr("No tools are available to \(caller).")
        } else {
            Output.table(["TOOL", "DECISION", "RISK", "TITLE"], visible.map { tool, verdict in
                [tool.name, verdict.decision.rawValue, verdict.risk.rawValue, tool.title]
            })
        }
    }
}

struct CallTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a tool through the router, as the caller the options describe.",
        discussion: "Prints the result. Exit 0 on success, 1 when the tool failed, 2 when policy blocked the call (or no such tool exists: the two look the same), 64 for a bad command line.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var who: CallerOptions

    @Argument(help: "The tool's name.")
    var name: String

    @Option(name: .long, help: "The arguments as a JSON object.")
    var args = "{}"

    @Option(name: .long, help: "The session id recorded in traces (default: a new one).")
    var session: String?

    func run() async throws {
        let arguments: JSONValue
        do { arguments = try JSONValue.decode(Data(args.utf8)) } catch {
            Output.stderr("error: --args is not valid JSON: \(error)")
            throw ExitCode(64)
        }
        let context = try global.context()
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let session = self.session ?? "cli-\(UInt32.random(in: 0...UInt32.max))"
        let outcome = await tools.router.call(name, arguments: arguments, caller: caller, session: session)
        await tools.router.recorder.flush()
        if global.json {
            var o = outcome.result.json.objectValue ?? [:]
            o["status"] = .string(outcome.status.rawValue)
            o["span_id"] = .string(outcome.spanId)
            o["session"] = .string(session)
            Output.json(JSONValue.object(o))
        } else if outcome.status == .succeeded {
            let text = outcome.result.text
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        } else {
            Output.stderr("error: \(outcome.result.text)")
        }
        switch outcome.status {
        case .succeeded: return
        case .failed: throw ExitCode(1)
        case .blocked: throw ExitCode(2)
        }
    }
}

struct ExplainTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the policy decision for a tool and caller, and the rule (file:line) that made it.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var who: CallerOptions

    @Argument(help: "The tool's name (any name: unknown tools are decided as low risk).")
    var name: String

    func run() async throws {
        let context = try global.context(readOnly: true)
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let verdict = tools.router.verdict(for: name, caller: caller)
        let descriptor = tools.router.descriptor(named: name)
        let file = context.manifest.file
        func row(_ m: PolicyMatch) -> [String] {
            ["  \(file):\(m.location.line):\(m.location.column)", m.level, m.decision.rawValue, m.pattern]
        }
        if global.json {
            let matches = verdict.matches.map { m -> JSONValue in
                ["level": .string(m.level), "decision": .string(m.decision.rawValue), "pattern": .string(m.pattern),
                 "file": .string(file), "line": .int(m.location.line), "column": .int(m.location.column)]
            }
            var o: [String: JSONValue] = [
                "tool": .string(name), "known": .bool(descriptor != nil), "decision": .string(verdict.decision.rawValue),
                "risk": .string(verdict.risk.rawValue), "mode": .string(verdict.mode.rawValue), "blocked": .bool(!verdict.permitsCall),
                "reason": .string(verdict.reason), "matches": .array(matches),
            ]
            if let d = verdict.deciding {
                o["rule"] = ["level": .string(d.level), "file": .string(file), "line": .int(d.location.line), "column": .int(d.location.column)]
            }
            Output.json(JSONValue.object(o))
            return
        }
        let kind = CallerActions.all.contains(name) ? "  (a permission, not a tool: only a rule naming it exactly grants it)"
            : descriptor == nil ? "  (no enabled plugin offers it)" : "  (risk \(verdict.risk.rawValue))"
        print("tool:      \(name)" + kind)
        print("caller:    \(caller)")
        let effect = verdict.permitsCall ? (verdict.decision == .allow ? "runs" : "runs (permissive mode; enforce would block)") : (verdict.decision == .ask ? "blocked until approved" : "blocked")
        print("decision:  \(verdict.decision.rawValue): \(effect)")
        print("reason:    \(verdict.reason)")
        if !verdict.matches.isEmpty {
            print("matched:")
            Output.table(["  AT", "LEVEL", "DECISION", "PATTERN"], verdict.matches.map(row))
        }
        if !verdict.ignoredForRisk.isEmpty {
            print("not counted (high-risk tools need the exact name):")
            Output.table(["  AT", "LEVEL", "DECISION", "PATTERN"], verdict.ignoredForRisk.map(row))
        }
    }
}
