import Base
import Core
import Crypto
import Foundation
import Logging
import Plugins
import Synchronization

/// How a call asked for as a task began: answered at once (it ended within `task_after`, or it is
/// not to be a task), or as a task that goes on after the request.
public enum TaskStart: Sendable {
    case inline(ToolCallOutcome)
    case task(TaskRecord)
}

/// One call to run as a task: what, for whom, and how the router runs it.
public struct TaskCall: Sendable {
    public var tool: String
    public var arguments: JSONValue
    public var caller: ToolCaller
    public var session: String
    public var retryOf: String?
    /// Runs the call through the router: with how approvals are asked, where progress goes, and
    /// the task's deadline.
    public var run: @Sendable (_ approval: ApprovalMode, _ progress: ToolProgressSink?, _ timeout: Duration) async -> ToolCallOutcome
    /// Told of progress while the call may still be answered inline (the request's own progress
    /// notifications); a task's progress goes into its status message instead.
    public var inlineProgress: ToolProgressSink?

    public init(tool: String, arguments: JSONValue, caller: ToolCaller, session: String, retryOf: String? = nil,
                run: @escaping @Sendable (ApprovalMode, ToolProgressSink?, Duration) async -> ToolCallOutcome) {
        self.tool = tool
        self.arguments = arguments
        self.caller = caller
        self.session = session
        self.retryOf = retryOf
        self.run = run
    }
}

/// Runs tool calls as tasks (the MCP Tasks extension, `Prefer: respond-async`): each is stored before
/// anyone is told of it, runs in the background under its own deadline, and ends `completed`
/// (with the tool result, errors included), `failed` (a protocol error: an unknown tool, a host
/// that stopped) or `cancelled`. A task that waits for an approval is `input_required` until it is
/// answered, wherever the answer comes from. A cancellation asked of any process reaches the host
/// running the task within a second. Tasks of hosts that are gone are failed by the next host that
/// looks (`sweep`), never left `working`.
public final class TaskRunner: Sendable {
    public struct Settings: Sendable {
        public var ttl: Duration = .seconds(3600)
        public var timeout: Duration = .seconds(3600)
        public var maxPerAgent = 100
        public var resultBytes = 1 << 20
        public init() {}
    }

    let store: any RegistryStore
    let hostId: String
    let logger: Logger
    let approvals: ApprovalDesk
    private struct Running {
        var task: Task<Void, Never>
        var approvalId: String?
    }
    private let running = Mutex<[String: Running]>([:])
    private let watching = Mutex<Task<Void, Never>?>(nil)
    /// The host is stopping: a call that ends now without a result ended because of it.
    private let stopping = Mutex(false)
    /// Told of every change of a task this host runs (for `notifications/tasks` and event streams).
    private let observers = Mutex<[Int: @Sendable (TaskRecord) -> Void]>([:])
    private let nextObserver = Mutex(0)

    public static let stoppedMessage = "the host stopped while the task ran"

    public init(store: any RegistryStore, approvals: ApprovalDesk, logger: Logger, hostId: String = ProcessIdentity.current.id) {
        self.store = store
        self.approvals = approvals
        self.logger = logger.with("host.part", "tasks")
        self.hostId = hostId
    }

    /// Tells `handler` of every change of a task this host runs; returns a token for `unobserve`.
    public func observe(_ handler: @escaping @Sendable (TaskRecord) -> Void) -> Int {
        let token = nextObserver.withLock { n -> Int in n += 1; return n }
        observers.withLock { $0[token] = handler }
        return token
    }

    public func unobserve(_ token: Int) { observers.withLock { _ = $0.removeValue(forKey: token) } }

    /// Starts `call`. With `inlineWithin`, the call is answered inline when it ends within that long
    /// (and does not wait for an approval); otherwise, and at once without it, it becomes a task.
    /// Refused (`.conflict`) when the agent has `maxPerAgent` tasks running.
    public func start(_ call: TaskCall, settings: Settings, inlineWithin: Duration?) async throws(CoreError) -> TaskStart {
        let now = Date()
        let (arguments, complete) = Self.stored(call.arguments)
        let record = TaskRecord(id: "tsk_" + Self.randomId(), tool: call.tool, arguments: arguments, argumentsComplete: complete,
                                agent: call.caller.agent, role: call.caller.role, group: call.caller.group, session: call.session,
                                retryOf: call.retryOf, hostId: hostId, createdAt: now, updatedAt: now,
                                expiresAt: now.addingTimeInterval(settings.ttl.seconds))
        let life = TaskLife(record: record)
        if inlineWithin == nil {
            // A task from the start: stored, and one before its call can end.
            try await insert(record, settings: settings)
            life.makeTask()
            life.inserted.set(())
        }
        // The call runs detached: it outlives the request that started it.
        let work = Task.detached { [self] in
            let progress: ToolProgressSink = { [self] value, total, message in
                // Progress goes into the status message at most once a second: a server reporting every
                // few milliseconds must not turn into as many writes.
                guard life.isTask else {
                    if life.isUndecided { call.inlineProgress?(value, total, message) }
                    return
                }
                guard life.mayReportProgress(at: ContinuousClock.now) else { return }
                let text = message ?? (total.map { "\(Self.number(value)) of \(Self.number($0))" } ?? Self.number(value))
                Task { await self.change(record.id, TaskChange(status: .working, statusMessage: text)) }
            }
            let announce: @Sendable (ApprovalPrompt) -> Void = { [self] prompt in
                life.wantsTask.set(())
                running.withLock { $0[record.id]?.approvalId = prompt.id }
                Task {
                    await life.inserted.wait()
                    await self.change(record.id, TaskChange(status: .inputRequired, statusMessage: "waiting for approval \(prompt.id) of \(call.tool)",
                                                            approvalId: prompt.id))
                }
            }
            let outcome = await call.run(.wait(asking: nil, announce: announce), progress, settings.timeout)
            life.ended.set(outcome)
            if life.isTask {
                await life.inserted.wait()
                await self.finish(record, outcome, settings: settings)
            }
            self.running.withLock { _ = $0.removeValue(forKey: record.id) }
        }
        running.withLock { $0[record.id] = Running(task: work) }
        // A call that ended before it was registered removed nothing: remove it now.
        if life.ended.current != nil { running.withLock { _ = $0.removeValue(forKey: record.id) } }

        if let within = inlineWithin {
            let decided = await Self.first(within, life)
            if case .ended(let outcome) = decided { return .inline(outcome) }
            // Still running (or waiting for an approval): it becomes a task now, unless it ended meanwhile.
            guard life.becomeTask() else {
                running.withLock { _ = $0.removeValue(forKey: record.id) }
                return .inline(await life.ended.wait()!)
            }
            do throws(CoreError) { try await insert(record, settings: settings) } catch {
                // Not stored (the agent's limit): the caller waits for the call as without tasks.
                life.abandonTask()
                logger.notice("a call goes on inline: \(error.message)", metadata: ["host.tool": "\(call.tool)"])
                return .inline(await life.ended.wait()!)
            }
            life.inserted.set(())
        }
        watchCancellations()
        return .task(record)
    }

    private func insert(_ record: TaskRecord, settings: Settings) async throws(CoreError) {
        do { try await store.insertTask(record, maxActive: settings.maxPerAgent) } catch {
            if error.code == .limit { throw CoreError(.conflict, error.message) }
            throw CoreError(.storage, "the registry could not store the task (\(error.code.rawValue))")
        }
        logger.info("task started", metadata: ["host.task": "\(record.id)", "host.tool": "\(record.tool)", "host.agent": "\(record.agent)"])
        trace("task.created", record, ["status": .string(record.status.rawValue)])
    }

    /// A task event in the trace (the event log, `/v1/events` and its stream).
    func trace(_ type: String, _ record: TaskRecord, _ detail: [String: JSONValue]) {
        var detail = detail
        detail["task_id"] = .string(record.id)
        if let retryOf = record.retryOf { detail["retry_of"] = .string(retryOf) }
        let event = TraceEvent(at: TraceEvent.timestamp(), type: type, session: TraceRedaction.name(record.session), spanId: TraceEvent.newSpanId(),
                               agent: TraceRedaction.name(record.agent), role: record.role, group: record.group,
                               tool: TraceRedaction.name(record.tool), decision: nil, detail: .object(detail))
        approvals.recorder.record(event)
    }

    /// Which came first: the call's end, a wait for approval, or the deadline.
    private enum FirstEvent { case ended(ToolCallOutcome), wantsTask, timedOut }

    private static func first(_ within: Duration, _ life: TaskLife) async -> FirstEvent {
        await withTaskGroup(of: FirstEvent.self) { group in
            group.addTask { (await life.ended.wait(timeout: within)).map(FirstEvent.ended) ?? .timedOut }
            group.addTask { await life.wantsTask.wait(timeout: within) == nil ? .timedOut : .wantsTask }
            defer { group.cancelAll() }
            var result = FirstEvent.timedOut
            while let next = await group.next() {
                if case .ended = next { return next }
                if case .wantsTask = next { result = next; break }
            }
            return result
        }
    }

    /// Stores how the call ended.
    private func finish(_ record: TaskRecord, _ outcome: ToolCallOutcome, settings: Settings) async {
        var change: TaskChange
        let hostStopping = stopping.withLock { $0 }
        switch outcome.ending {
        case let ending where hostStopping && ending != .succeeded:
            // Cut short by the host going away (cancelled, or a bridge that stopped): not the tool's answer.
            let error: JSONValue = ["code": .int(JSONRPCError.internalErrorCode), "message": .string(Self.stoppedMessage)]
            change = TaskChange(status: .failed, statusMessage: Self.stoppedMessage, error: error.jsonText)
        case .unavailable:
            let error: JSONValue = ["code": .int(JSONRPCError.invalidParamsCode), "message": .string("Unknown tool: \(TraceRedaction.name(record.tool))")]
            change = TaskChange(status: .failed, statusMessage: "the tool is not available to the caller", error: error.jsonText)
        case .failed(let code) where code == ToolError.Code.cancelled.rawValue:
            change = TaskChange(status: .cancelled, statusMessage: outcome.result.text)
        default:
            let json = outcome.result.json.jsonText
            if json.utf8.count > settings.resultBytes {
                let message = "the result was \(json.utf8.count) bytes of JSON, over router.task_result_bytes (\(settings.resultBytes)); it was not kept"
                change = TaskChange(status: .completed, statusMessage: message, result: ToolResult.error(message).json.jsonText)
            } else {
                change = TaskChange(status: .completed, statusMessage: outcome.result.isError ? "the tool reported an error" : nil, result: json)
            }
        }
        await self.change(record.id, change)
        var detail: [String: JSONValue] = ["status": .string(change.status.rawValue)]
        if let message = change.statusMessage { detail["message"] = .string(TraceRedaction.message(message)) }
        trace("task.ended", record, detail)
        logger.info("task ended", metadata: ["host.task": "\(record.id)", "host.tool": "\(record.tool)", "host.status": "\(change.status.rawValue)"])
    }

    /// Stores a change of a running task and tells the observers.
    func change(_ id: String, _ change: TaskChange) async {
        let changed: Bool
        do { changed = try await store.changeTask(id: id, change, now: Date()) } catch {
            logger.error("could not store a task's change", metadata: ["host.task": "\(id)", "host.error": "\(error.message)"])
            return
        }
        guard changed, let record = try? await store.task(id: id) else { return }
        for handler in observers.withLock({ Array($0.values) }) { handler(record) }
    }

    // MARK: Reading and cancelling

    /// The task `id` if it is `agent`'s (any agent's when nil; another agent's reads as unknown).
    public func task(_ id: String, agent: String?) async throws(CoreError) -> TaskRecord {
        let found: TaskRecord?
        do { found = try await store.task(id: id) } catch { throw CoreError(.storage, "the registry could not read task \(id.prefix(16)) (\(error.code.rawValue))") }
        guard let found, agent == nil || found.agent == agent else { throw CoreError(.notFound, "Failed to retrieve task: Task not found") }
        guard found.expiresAt > Date() else { throw CoreError(.notFound, "Failed to retrieve task: Task has expired") }
        return found
    }

    /// `agent`'s tasks (every agent's when nil), newest first.
    public func tasks(agent: String?, status: TaskStatus?, limit: Int = 200) async throws(CoreError) -> [TaskRecord] {
        do { return try await store.tasks(agent: agent, status: status, limit: limit).filter { $0.expiresAt > Date() } } catch {
            throw CoreError(.storage, "the registry could not list tasks (\(error.code.rawValue))")
        }
    }

    /// Asks to cancel `agent`'s task `id` (any agent's when nil): stopped here at once when this
    /// host runs it, else by its host within a second. Returns the task as it now is.
    @discardableResult
    public func cancel(_ id: String, agent: String?) async throws(CoreError) -> TaskRecord {
        let found = try await task(id, agent: agent)
        guard !found.status.isTerminal else { return found }
        let marked = try? await store.requestTaskCancel(id: id, now: Date())
        running.withLock { $0[id]?.task }?.cancel()
        return marked ?? found
    }

    /// Cancels the calls of local tasks someone asked to cancel (from another process), and moves a
    /// task whose approval was answered back to `working`; once a second while tasks run here.
    private func watchCancellations() {
        watching.withLock { current in
            guard current == nil else { return }
            current = Task.detached { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    let local = running.withLock { $0 }
                    if local.isEmpty { break }
                    if let asked = try? await store.cancelRequestedTasks(Array(local.keys)) {
                        for id in asked { local[id]?.task.cancel() }
                    }
                    for (id, entry) in local {
                        guard let approval = entry.approvalId, let record = await approvals.read(approval), record.status != .pending else { continue }
                        running.withLock { $0[id]?.approvalId = nil }
                        await change(id, TaskChange(status: .working, statusMessage: "approval \(approval) \(record.status.rawValue)"))
                    }
                }
                watching.withLock { $0 = nil }
                // A task started as this loop ended starts it again.
                if !running.withLock({ $0.isEmpty }) { watchCancellations() }
            }
        }
    }

    /// Fails the running tasks of hosts that are gone (`the host stopped while the task ran`) and
    /// forgets expired ones.
    public func sweep() async {
        let running = ((try? await store.tasks(agent: nil, status: .working, limit: 10_000)) ?? [])
            + ((try? await store.tasks(agent: nil, status: .inputRequired, limit: 10_000)) ?? [])
        let owners = Set(running.map(\.hostId))
        if !owners.isEmpty {
            // On one machine a host is alive while its process runs (a one-shot command's too); across
            // machines while it heartbeats.
            let live: Set<String>
            if store.hostsAreLocal {
                live = owners.filter { $0 == hostId || ApprovalDesk.isRunning($0) }
            } else {
                let hosts = (try? await HostDirectory(registry: store).hosts()) ?? []
                live = Set(hosts.filter(\.running).map(\.record.id)).union([hostId]).intersection(owners)
            }
            let error: JSONValue = ["code": .int(JSONRPCError.internalErrorCode), "message": .string(Self.stoppedMessage)]
            // Only the owners that are gone, by name: a host that starts a task meanwhile keeps it.
            let stopped = owners.subtracting(live).subtracting([hostId])
            if !stopped.isEmpty,
               let failed = try? await store.failTasks(ofStoppedHosts: Array(stopped), message: Self.stoppedMessage, error: error.jsonText, now: Date()),
               failed > 0 {
                logger.notice("failed the tasks of stopped hosts", metadata: ["host.tasks": "\(failed)"])
            }
        }
        _ = try? await store.forgetExpiredTasks(now: Date())
    }

    /// Stops every task this host runs (the host is shutting down) and waits, at most `limit`, for
    /// each to be stored `failed` with `stoppedMessage` (one that completed meanwhile keeps its
    /// result). What is not stored by then is failed by the next host's `sweep`.
    public func stopAll(within limit: Duration = .seconds(3)) async {
        stopping.withLock { $0 = true }
        let entries = running.withLock { Array($0.values) }
        for entry in entries { entry.task.cancel() }
        _ = await finishes(within: limit) {
            for entry in entries { await entry.task.value }
        }
    }

    // MARK: Helpers

    /// The arguments as stored (redacted and capped like a trace's), and whether they are the ones sent.
    static func stored(_ arguments: JSONValue) -> (String, Bool) {
        let redacted = TraceRedaction.forTrace(arguments, maxBytes: 64 << 10)
        return (redacted.jsonText, redacted == arguments)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func randomId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// One call's life while it may become a task: whether it is one, when it is stored, how it ended.
final class TaskLife: Sendable {
    let record: TaskRecord
    /// The call ended, with this outcome.
    let ended = OneShot<ToolCallOutcome>()
    /// The call waits for an approval: it becomes a task at once.
    let wantsTask = OneShot<Void>()
    /// The task's row is stored (changes wait for it).
    let inserted = OneShot<Void>()
    private enum State { case undecided, task, inline }
    private let state = Mutex(State.undecided)
    private let lastProgress = Mutex<ContinuousClock.Instant?>(nil)

    /// Whether progress seen `now` is written (a second after the last that was).
    func mayReportProgress(at now: ContinuousClock.Instant) -> Bool {
        lastProgress.withLock { last in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
    }

    init(record: TaskRecord) { self.record = record }

    var isTask: Bool { state.withLock { $0 == .task } }
    /// Whether it may still be answered inline.
    var isUndecided: Bool { state.withLock { $0 == .undecided } }

    /// Makes it a task unless its call already ended (then it is answered inline): true when it is one.
    func becomeTask() -> Bool {
        state.withLock { s in
            if s == .undecided, ended.current != nil { s = .inline; return false }
            s = .task
            return true
        }
    }

    /// Makes it a task before its call starts.
    func makeTask() { state.withLock { $0 = .task } }

    /// It could not be stored: it is answered inline after all.
    func abandonTask() {
        state.withLock { $0 = .inline }
        inserted.set(())
    }
}
