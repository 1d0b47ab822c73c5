// Tool-router benchmarks: router overhead per call against calling the plugin directly,
// memory_search latency over a large memory store against the same FTS5 query run raw by the
// sqlite3 CLI, and memory_write throughput against the storage layer alone. Prints tables;
// asserts nothing about time.
import Base
import Foundation
import GRDB
import Host
import Logging
import Plugins
import Registry

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return fallback }
    return v
}
func stringOption(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let memories = option("--memories", 100_000)
let calls = option("--calls", 20_000)
let queries = option("--queries", 300)
let writes = option("--writes", 3000)
let sqlite3 = stringOption("--sqlite3", "/usr/bin/sqlite3")

let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let workdir = NSTemporaryDirectory() + "agenthub-bench-\(UUID().uuidString)"
try FileManager.default.createDirectory(atPath: workdir + "/files", withIntermediateDirectories: true)
let keep = CommandLine.arguments.contains("--keep")   // leave the registry behind for a look with sqlite3
defer { if keep { print("kept: \(workdir)") } else { try? FileManager.default.removeItem(atPath: workdir) } }

try String(repeating: "0123456789abcdef\n", count: 241).write(toFile: workdir + "/files/page.txt", atomically: true, encoding: .utf8)
try """
    version: 1
    host: { database: registry.db }
    policy:
      default: deny
      client_grants: agent   # the bench's client grants the agent, as a person at it may where the manifest says so
      rules:
        - allow: [memory_*, read_file, memory_write_global]
    roles: { researcher: { allow: [list_files] }, asker: { ask: [memory_get] } }
    plugins:
      file: { roots: [./files] }
      memory: {}
    """.write(toFile: workdir + "/registry.yaml", atomically: true, encoding: .utf8)

let context = try HostContext.open(configPath: workdir + "/registry.yaml", logger: logger, environment: [:])
guard let sqlite = context.registry as? RegistryDatabase else { fatalError("the bench's manifest names a SQLite registry") }
let tools = try context.tools()
let router = tools.router
let memoryPlugin = tools.plugins.first { $0.name == "memory" }!
let filePlugin = tools.plugins.first { $0.name == "file" }!
let caller = ToolCaller(agent: "bench", role: "researcher")
let direct = ToolCallContext(caller: caller, session: "bench", spanId: "0", logger: logger, permissions: UnrestrictedPermissions())

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

// MARK: - A vocabulary and texts with a realistic (Zipf-like) word distribution.

let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "del", "mor", "fen", "gar", "hol"]
let vocabulary: [String] = (0..<4000).map { i in
    var word = ""
    var n = i
    repeat { word += syllables[n % syllables.count]; n /= syllables.count } while n > 0
    return word + (i % 3 == 0 ? "s" : "")
}
func zipfWord() -> String {
    let u = Double.random(in: 0..<1)
    return vocabulary[min(vocabulary.count - 1, Int(pow(Double(vocabulary.count), u)) - 1)]
}
func text(words: Int) -> String { (0..<words).map { _ in zipfWord() }.joined(separator: " ") }

print("AgentHub tool-router bench (release build, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print()

// MARK: - Router overhead.
_ = try await memoryPlugin.call("memory_write", arguments: ["type": "core", "text": "the overhead probe memory"], context: direct)
func measure(_ label: String, _ tool: String, _ args: [String: JSONValue], plugin: any ToolPlugin) async throws -> (String, Double, Double) {
    for _ in 0..<200 { _ = try await plugin.call(tool, arguments: args, context: direct) }
    var start = ContinuousClock.now
    for _ in 0..<calls { _ = try await plugin.call(tool, arguments: args, context: direct) }
    let directTime = seconds(ContinuousClock.now - start) / Double(calls)
    for _ in 0..<200 { _ = await router.call(tool, arguments: .object(args), caller: caller, session: "warm") }
    await router.recorder.flush()
    start = ContinuousClock.now
    for _ in 0..<calls {
        let outcome = await router.call(tool, arguments: .object(args), caller: caller, session: "bench")
        precondition(outcome.status == .succeeded, outcome.result.text)
    }
    await router.recorder.flush()   // the trace events are written before the clock stops
    let routedTime = seconds(ContinuousClock.now - start) / Double(calls)
    return (label, directTime, routedTime)
}
var overhead: [(String, Double, Double)] = []
overhead.append(try await measure("memory_get", "memory_get", ["id": "mem_1"], plugin: memoryPlugin))
overhead.append(try await measure("read_file (4 KiB)", "read_file", ["path": "page.txt"], plugin: filePlugin))
print("Router overhead per call (\(calls) sequential calls; routed = policy + schema validation + two trace events, flushed)")
print("\(pad("tool", 20)) \(lpad("direct µs", 10)) \(lpad("routed µs", 10)) \(lpad("overhead µs", 12)) \(lpad("x direct", 9))")
for (label, d, r) in overhead {
    print("\(pad(label, 20)) \(lpad(f(d * 1e6), 10)) \(lpad(f(r * 1e6), 10)) \(lpad(f((r - d) * 1e6), 12)) \(lpad(f(r / d, 2), 9))")
}
print()

// MARK: - Per-call budget: what each stage of one routed memory_get costs.
// Each stage's own work is timed in a loop of its own; what the routed call costs beyond the plugin
// and those stages is the rest of the run stage (memory_get runs inline on the caller's task; a tool
// that is handed off pays the blocking executor, the race with its deadline timer and the caller's
// resumption here), the concurrency slot, the call metric, and the trace writer's share of the two cores.
func timeLoop(_ count: Int, _ body: () -> Void) -> Double {
    for _ in 0..<min(count, 500) { body() }
    let start = ContinuousClock.now
    for _ in 0..<count { body() }
    return seconds(ContinuousClock.now - start) / Double(count)
}
let budgetArgs: JSONValue = ["id": "mem_1"]
guard let budgetTool = router.tools(for: caller).first(where: { $0.descriptor.name == "memory_get" })?.descriptor else { fatalError("memory_get is not routed") }
let decideTime = timeLoop(calls) { _ = router.policy.decide("memory_get", declaredRisk: budgetTool.risk, role: caller.role, group: caller.group) }
let budgetSchema = CompiledSchema(budgetTool.inputSchema)   // as the router keeps it, compiled once per tool
let validateTime = timeLoop(calls) { _ = budgetSchema.problems(in: budgetArgs) }
let traceTime = timeLoop(calls) {
    var event = TraceEvent(at: TraceEvent.timestamp(), type: "tool.called", session: TraceRedaction.name("bench"), spanId: TraceEvent.newSpanId(),
                           agent: TraceRedaction.name(caller.agent), role: caller.role, group: caller.group, tool: "memory_get", decision: "allow",
                           argumentBytes: budgetArgs.jsonByteCount,
                           detail: ["arguments": TraceRedaction.forTrace(budgetArgs, content: budgetTool.contentArguments, maxBytes: 4096)])
    router.recorder.record(event)
    event.type = "tool.result"
    event.at = TraceEvent.timestamp()
    event.detail = nil
    router.recorder.record(event)
}
await router.recorder.flush()
// The writer's share: the same two events per call, queued and then written (the writer runs on a
// thread of its own, batching; on two cores it takes CPU the caller and the plugin threads need).
let writerStart = ContinuousClock.now
for _ in 0..<calls {
    var event = TraceEvent(at: TraceEvent.timestamp(), type: "tool.called", session: "bench", spanId: TraceEvent.newSpanId(),
                           agent: caller.agent, role: caller.role, group: caller.group, tool: "memory_get", decision: "allow",
                           argumentBytes: 12, detail: ["arguments": budgetArgs])
    router.recorder.record(event)
    event.type = "tool.result"
    event.detail = nil
    router.recorder.record(event)
}
await router.recorder.flush()
let writerTime = max(0, seconds(ContinuousClock.now - writerStart) / Double(calls) - traceTime)
let (_, budgetDirect, budgetRouted) = overhead[0]
// The writer runs beside the caller on the other core: its cost is printed, not subtracted.
let handOff = max(0, budgetRouted - budgetDirect - decideTime - validateTime - traceTime)
print("Per-call budget of a routed memory_get (each stage timed on its own, \(calls) times; the rest is what is left)")
print("\(pad("stage", 62)) \(lpad("µs", 8)) \(lpad("share", 7))")
for (stage, cost) in [("plugin: memory_get itself (the direct call)", budgetDirect),
                      ("decide: policy verdict for the caller", decideTime),
                      ("validate: arguments against the input schema", validateTime),
                      ("record: two trace events (redacted, timestamped, queued)", traceTime),
                      ("the rest: run stage, slot, metric, awaits, the writer's share", handOff)] {
    print("\(pad(stage, 62)) \(lpad(f(cost * 1e6), 8)) \(lpad(f(cost / budgetRouted * 100, 0) + "%", 7))")
}
print("\(pad("routed total", 62)) \(lpad(f(budgetRouted * 1e6), 8))")
print("\(pad("beside it, the trace writer timed alone (two rows, batched)", 62)) \(lpad(f(writerTime * 1e6), 8))")
// A tool that blocks threads (read_file) is handed to the plugin threads and its caller resumed
// afterwards: two wake-ups of a parked thread, whatever the tool does. Its floor, timed alone:
for _ in 0..<500 { await Task(executorPreference: BlockingWorkExecutor.shared) {}.value }
let hopStart = ContinuousClock.now
for _ in 0..<calls { await Task(executorPreference: BlockingWorkExecutor.shared) {}.value }
let hopTime = seconds(ContinuousClock.now - hopStart) / Double(calls)
let (_, fileDirect, fileRouted) = overhead[1]
print("A handed-off call (read_file): its overhead beyond memory_get's is \(f((fileRouted - fileDirect - (budgetRouted - budgetDirect)) * 1e6)) µs; "
      + "an empty job sent to the plugin threads and awaited costs \(f(hopTime * 1e6)) µs")
print()

// MARK: - Approvals: what asking costs a call.
let asker = ToolCaller(agent: "bench", role: "asker")   // the same agent (its memory), a role that asks
let approvalCalls = max(200, calls / 10)
/// Times `count` calls off the main actor, as `measure` does (from the main actor each call waited
/// for the main thread twice: 127-143 µs for an allowed `memory_get` against 36 µs).
func perCall(_ count: Int, _ body: @escaping @Sendable () async -> ToolCallOutcome) async -> Double {
    let recorder = router.recorder
    return await Task.detached {
        let start = ContinuousClock.now
        for _ in 0..<count {
            let outcome = await body()
            precondition(outcome.status == .succeeded, outcome.result.text)
        }
        await recorder.flush()
        return seconds(ContinuousClock.now - start) / Double(count)
    }.value
}
let accept: ToolApprover = { _ in ApprovalAnswer(granted: true, by: "client:bench", via: "elicitation") }
let allowedTime = await perCall(approvalCalls) { await router.call("memory_get", arguments: ["id": "mem_1"], caller: caller, session: "bench") }
let askedTime = await perCall(approvalCalls) {
    await router.call("memory_get", arguments: ["id": "mem_1"], caller: asker, session: "asked", approval: .wait(asking: accept))
}
_ = await router.call("memory_get", arguments: ["id": "mem_1"], caller: asker, session: "grant", approval: .wait(asking: { _ in
    ApprovalAnswer(granted: true, by: "client:bench", via: "elicitation", scope: .agent, grantExpiresAt: Date().addingTimeInterval(3600))
}))
let grantedTime = await perCall(approvalCalls) { await router.call("memory_get", arguments: ["id": "mem_1"], caller: asker, session: "granted") }
print("Approvals (memory_get, \(approvalCalls) sequential calls; the peer is the same call allowed outright)")
print("\(pad("path", 52)) \(lpad("µs/call", 9)) \(lpad("x allowed", 10))")
for (label, time) in [("allowed (peer)", allowedTime),
                      ("ask, under an agent grant (cached until a grant changes)", grantedTime),
                      ("ask, the client approves each call", askedTime)] {
    print("\(pad(label, 52)) \(lpad(f(time * 1e6), 9)) \(lpad(f(time / allowedTime, 2), 10))")
}
print()

// MARK: - memory_write throughput.
// The three paths take turns, a tenth of the writes at a time, so each meets the same database size
// and the same checkpoints (the store grows as they write).
let writeTexts = (0..<writes).map { _ in text(words: 40) }
// Timed inside a function of its own, off the main actor, as `measure` is: top-level code runs on
// the main actor, and each await from it would add two thread hops to the plugin's and router's
// times but not to the storage floor's.
func timedWrites(_ texts: [String], turns: Int) async throws -> [Double] {
    var times = [0.0, 0.0, 0.0, 0.0]
    func write(_ t: String) async throws {
        _ = try await memoryPlugin.call("memory_write", arguments: ["type": "episodic", "text": .string(t)], context: direct)
    }
    for turn in 0..<turns {
        let slice = texts[(turn * texts.count / turns)..<((turn + 1) * texts.count / turns)]
        var start = ContinuousClock.now
        for t in slice {
            try sqlite.insertMemory(MemoryRecord(type: .episodic, scope: .agent, owner: "bench", text: t, metadata: nil,
                                                           importance: 0.5, createdAt: Date().timeIntervalSince1970, agent: "bench", role: nil))
        }
        times[0] += seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        for t in slice { try await write(t) }
        times[1] += seconds(ContinuousClock.now - start)
        // The hand-off alone: the same plugin call sent to the plugin threads, as the router sends it.
        start = ContinuousClock.now
        for t in slice { try await Task(executorPreference: BlockingWorkExecutor.shared) { try await write(t) }.value }
        times[2] += seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        for t in slice { _ = await router.call("memory_write", arguments: ["type": "episodic", "text": .string(t)], caller: caller, session: "bench") }
        await router.recorder.flush()
        times[3] += seconds(ContinuousClock.now - start)
    }
    return times
}
let writeTimes = try await timedWrites(writeTexts, turns: 10)
let (storageRate, pluginRate, handedRate, routedRate) = (Double(writes) / writeTimes[0], Double(writes) / writeTimes[1],
                                                          Double(writes) / writeTimes[2], Double(writes) / writeTimes[3])
print("memory_write, one transaction each (\(writes) writes of 40 words)")
print("\(pad("path", 36)) \(lpad("writes/s", 9)) \(lpad("x storage", 10))")
for (label, rate) in [("registry insert (storage floor)", storageRate), ("memory plugin", pluginRate),
                      ("memory plugin on the plugin threads", handedRate), ("router → memory plugin", routedRate)] {
    print("\(pad(label, 36)) \(lpad(f(rate, 0), 9)) \(lpad(f(rate / storageRate, 2), 10))")
}
print()

// MARK: - memory_search over a large store.
let existing = try sqlite.memoryCount()
var batch: [MemoryRecord] = []
let now = Date().timeIntervalSince1970
for i in existing..<max(existing, memories) {
    let long = i % 50 == 0
    batch.append(MemoryRecord(type: [MemoryType.core, .episodic, .archival][i % 3], scope: i % 4 == 0 ? .global : .agent,
                              owner: i % 4 == 0 ? "" : "bench", text: text(words: long ? 600 : Int.random(in: 12...60)), metadata: nil,
                              importance: Double(i % 10) / 10, createdAt: now - Double(i % 1000) * 3600, agent: "bench", role: nil))
    if batch.count == 5000 { _ = try sqlite.insertMemories(batch); batch.removeAll() }
}
if !batch.isEmpty { _ = try sqlite.insertMemories(batch) }
let queryWords: [[String]] = (0..<queries).map { i in
    // Mostly mid-frequency words, as people search for specific things; some common ones.
    (0..<(2 + i % 2)).map { _ in i % 5 == 0 ? vocabulary[Int.random(in: 0..<50)] : vocabulary[Int.random(in: 50..<1500)] }
}
var pluginLatencies: [Double] = []
var routedLatencies: [Double] = []
var inProcessLatencies: [Double] = []
// The raw query in this process too, on a connection of its own to the same file, between the
// plugin's calls (so it meets the same page cache the trace writer's commits keep invalidating).
var rawConfig = Configuration()
rawConfig.readonly = true
let rawReader = try DatabaseQueue(path: sqlite.path, configuration: rawConfig)
for words in queryWords {
    let args: [String: JSONValue] = ["query": .string(words.joined(separator: " ")), "top_k": 8]
    var t = ContinuousClock.now
    _ = try rawReader.read { db in
        try Row.fetchAll(db, sql: "SELECT rowid, bm25(memory_fts) FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank LIMIT 8", arguments: [MemoryQuery.anyWord(words)])
    }
    inProcessLatencies.append(seconds(ContinuousClock.now - t))
    t = ContinuousClock.now
    _ = try await memoryPlugin.call("memory_search", arguments: args, context: direct)
    pluginLatencies.append(seconds(ContinuousClock.now - t))
    t = ContinuousClock.now
    _ = await router.call("memory_search", arguments: .object(args), caller: caller, session: "bench")
    routedLatencies.append(seconds(ContinuousClock.now - t))
}
await router.recorder.flush()

// The same match expression, raw, in one sqlite3 process with its own timer. The CLI's timer has
// millisecond resolution, so each statement runs the query `repeats` times and is divided
// (which also smooths the per-run noise of the peer a little).
let repeats = 40
var script = ".timer on\n.output /dev/null\n"
for words in queryWords {
    let match = MemoryQuery.anyWord(words).replacingOccurrences(of: "'", with: "''")
    let one = "SELECT * FROM (SELECT rowid, bm25(memory_fts) FROM memory_fts WHERE memory_fts MATCH '\(match)' ORDER BY rank LIMIT 8)"
    script += Array(repeating: one, count: repeats).joined(separator: " UNION ALL ") + ";\n"
}
let process = Process()
process.executableURL = URL(fileURLWithPath: sqlite3)
process.arguments = [sqlite.path]
let input = Pipe(), output = Pipe()
process.standardInput = input
process.standardOutput = output
process.standardError = output
try process.run()
input.fileHandleForWriting.write(Data(script.utf8))
try input.fileHandleForWriting.close()
let raw = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
process.waitUntilExit()
let rawLatencies = raw.split(separator: "\n").compactMap { line -> Double? in
    guard line.hasPrefix("Run Time: real ") else { return nil }
    return Double(line.dropFirst("Run Time: real ".count).split(separator: " ").first ?? "").map { $0 / Double(repeats) }
}
guard rawLatencies.count == queryWords.count else {
    print("sqlite3 did not time every query (\(rawLatencies.count) of \(queryWords.count)): \(raw.prefix(300))")
    exit(1)
}
let total = try sqlite.memoryCount()
print("memory_search over \(total) memories (\(queries) queries of 2-3 words, top_k 8)")
print("\(pad("path", 44)) \(lpad("p50 ms", 8)) \(lpad("p99 ms", 8)) \(lpad("x raw p50", 10)) \(lpad("x raw p99", 10))")
let rawSorted = rawLatencies.sorted()
for (label, values) in [("sqlite3 CLI, raw FTS5 match + bm25 (peer)", rawLatencies), ("the same, in this process (GRDB)", inProcessLatencies),
                        ("memory plugin (scopes, phrase, ranking)", pluginLatencies),
                        ("router → memory plugin", routedLatencies)] {
    let sorted = values.sorted()
    print("\(pad(label, 44)) \(lpad(f(percentile(sorted, 0.5) * 1000, 2), 8)) \(lpad(f(percentile(sorted, 0.99) * 1000, 2), 8)) \(lpad(f(percentile(sorted, 0.5) / percentile(rawSorted, 0.5), 2), 10)) \(lpad(f(percentile(sorted, 0.99) / percentile(rawSorted, 0.99), 2), 10))")
}
