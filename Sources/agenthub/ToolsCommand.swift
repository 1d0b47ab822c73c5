import Base
import ArgumentParser
import Foundation
import Host
import Plugins

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List, call and explain tools as a given caller sees them.",
        subcommands: [ListTools.self, CallTool.self, ExplainTool.self, AcceptTool.self]
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

extension ToolHost {
    /// Runs `body` with the bridged servers started and settled (each ready, or given up on after its
    /// start timeout), then stops them: a one-shot command sees every tool there is.
    /// With `for: name`, only when `name` is a bridged tool (`SERVER__TOOL` of a declared server).
    func withServers<T>(for name: String? = nil, _ body: () async throws -> T) async throws -> T {
        guard let bridge else { return try await body() }
        if let name, !bridge.serverNames.contains(where: { name.hasPrefix($0 + "__") }) { return try await body() }
        try await bridge.start()
        await bridge.settle(timeout: bridge.longestStartTimeout + .seconds(1))
        for status in bridge.statuses where status.state != .ready {
            Output.stderr("warning: bridged server \(status.server) is \(status.state.rawValue)" + (status.lastExit.map { ": \($0)" } ?? ""))
        }
        do {
            let value = try await body()
            await stop()
            return value
        } catch {
            await stop()
            throw error
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
        let context = try await global.context(readOnly: true)
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let (visible, changes) = try await tools.withServers { (tools.router.tools(for: caller), tools.bridge?.definitionChanges ?? [:]) }
        if global.json {
            Output.json(JSONValue.array(visible.map { tool, verdict in
                var o = tool.json.objectValue ?? [:]
                o["decision"] = .string(verdict.decision.rawValue)
                o["risk"] = .string(verdict.risk.rawValue)
                if let change = changes[tool.name] { o["pin"] = .string(change.rawValue) }
                return .object(o)
            } + changes.filter { $0.value == .blocked }.keys.sorted().map { name -> JSONValue in
                ["name": .string(name), "decision": "blocked", "pin": "blocked"]
            }))
        } else if visible.isEmpty {
            Output.stderr("No tools are available to \(caller).")
        } else {
            Output.table(["TOOL", "DECISION", "RISK", "TITLE"], visible.map { tool, verdict in
                [tool.name, verdict.decision.rawValue, verdict.risk.rawValue,
                 tool.title + (changes[tool.name] == .changed ? "  [definition changed since first seen]" : "")]
            })
        }
        for name in changes.filter({ $0.value == .blocked }).keys.sorted() {
            Output.stderr("blocked: \(name) is new or changed since its server's tools were pinned (pin: strict, or a name that differs only in case); review it, then run `agenthub tools accept \(name)`")
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
        do throws(JSONParseError) { arguments = try JSONParser.parse(args) } catch {
            Output.stderr("error: --args is not JSON: \(error.description) (give an object like --args '{\"query\": \"pdf\"}')")
            throw ExitCode(64)
        }
        if let problem = ToolArguments.problem(in: arguments) {
            Output.stderr("error: --args \(problem), like '{\"query\": \"pdf\"}'")
            throw ExitCode(64)
        }
        let context = try await global.context()
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let session = self.session ?? "cli-\(UInt32.random(in: 0...UInt32.max))"
        let outcome = try await tools.withServers(for: name) {
            await tools.router.call(name, arguments: ToolArguments.given(arguments), caller: caller, session: session, approval: .wait(announce: { question in
                Output.stderr("\(question.tool) needs approval (\(question.rule)); waiting until \(Output.date(question.expiresAt)) for an operator to run: agenthub approvals approve \(question.id)")
            }))
        }
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
        case .awaitingApproval: throw ExitCode(2)
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
        let context = try await global.context(readOnly: true)
        let tools = try global.toolHost(context)
        let caller = try who.caller(tools)
        let verdict = try await tools.withServers(for: name) { tools.router.verdict(for: name, caller: caller) }
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

struct AcceptTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept the changed definition of bridged tools (or of every tool of a server).",
        discussion: "A bridged tool's definition is pinned when first seen. When its server changes it, the tool is marked (and, with pin: strict, blocked) until accepted here. A running host picks the acceptance up within seconds.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Bridged tool names (SERVER__TOOL) or server names.")
    var names: [String]

    func run() async throws {
        guard !names.isEmpty else {
            Output.stderr("error: name at least one tool or server")
            throw ExitCode(64)
        }
        let context = try await global.context()
        let accepted: [String], unknown: [String]
        do { (accepted, unknown) = try await context.hosts.acceptChangedDefinitions(names) } catch {
            Output.fail(error)
            throw ExitCode(1)
        }
        if global.json {
            Output.json(JSONValue.object(["accepted": .array(accepted.map(JSONValue.string))]))
        } else {
            for tool in accepted { print("accepted: \(tool)") }
        }
        for name in unknown { Output.stderr("error: no bridged tool or server named '\(name)' has been seen") }
        if accepted.isEmpty && unknown.isEmpty { Output.stderr("nothing to accept: the definitions named match their pins") }
        if !unknown.isEmpty { throw ExitCode(1) }
    }
}
