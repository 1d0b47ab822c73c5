// SQLite against PostgreSQL for what a host does most: routed tools/call memory_get, memory_write
// and skills_search (the search `GET /v1/skills?q=` runs), each through the real router with its
// trace writer, on one host over SQLite, one host over PostgreSQL and three hosts (three pools,
// routers and trace writers) over one PostgreSQL, in one run, against a private PostgreSQL server
// started for the run. Prints tables; asserts nothing about time.
import Base
import Core
import Foundation
import Host
import Logging
import Plugins
import Registry
import RegistryPostgres
import TestSupport

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return fallback }
    return v
}
let calls = option("--calls", 6_000)
let clients = option("--clients", 16)
let memories = option("--memories", 10_000)
let rounds = option("--rounds", 2)
/// `--only memory_get` (or another call) runs that call alone (for a profile).
let only: String? = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }

let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let workdir = NSTemporaryDirectory() + "agenthub-pg-bench-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: workdir) }
let words = ["pdf", "chart", "csv", "git", "sql", "docker", "image", "release", "test", "log", "api", "translate", "meeting", "budget", "kiwi"]
for n in 0..<300 {
    let a = words[n % words.count], b = words[(n / words.count) % words.count]
    try write("---\nname: \(a)-\(b)-\(n)\ndescription: Work with \(a) and \(b) files, skill \(n).\n---\n\n# \(a) \(b)\n\nUse \(a) tools; check \(b) output.\n",
              to: "skills/\(a)-\(b)-\(n)/SKILL.md", in: workdir)
}
try """
    version: 1
    host: { database: registry.db }
    policy:
      default: deny
      rules:
        - allow: [memory_*, skills_*]
    sources:
      - name: main
        path: ./skills
    plugins:
      memory: {}
      skills: {}
    """.write(toFile: workdir + "/registry.yaml", atomically: true, encoding: .utf8)

// One registry on each side holding the same data: SQLite seeded, then copied into PostgreSQL.
let context = try HostContext.open(configPath: workdir + "/registry.yaml", logger: logger, environment: [:])
_ = try context.syncer.sync()
let now = Date().timeIntervalSince1970
guard let sqlite = context.registry as? RegistryDatabase else { fatalError("the bench's manifest names a SQLite registry") }
_ = try sqlite.insertMemories((0..<memories).map { n in
    MemoryRecord(type: .episodic, scope: .global, owner: "", text: "note \(n) about \(words[n % words.count]) and \(words[(n / 7) % words.count])",
                 metadata: nil, importance: 0.5, createdAt: now - Double(n), agent: "bench", role: nil)
})
let server = try await PrivatePostgres.make()
defer { server.stop() }
guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { fatalError("not a PostgreSQL URL") }
var postgres: [PostgresRegistry] = []
for _ in 0..<3 { postgres.append(try await PostgresRegistry.open(location, logger: logger)) }
defer { for registry in postgres { registry.close() } }
let report = try await postgres[0].copy(from: try sqlite.snapshot(), replace: false)
guard report.matches else { fatalError("the copy does not match") }

let sqliteHost = try context.tools()
func postgresHost(_ registry: PostgresRegistry) throws -> ToolHost {
    let recorder = TraceRecorder(sink: registry, logger: logger)
    let desk = ApprovalDesk(ledger: registry, recorder: recorder, logger: logger)
    return try ToolHost(manifest: context.manifest, stores: ToolStores(memory: registry, events: registry, skills: registry, pins: nil),
                        recorder: recorder, approvals: desk, logger: logger)
}
let postgresHosts = try postgres.map(postgresHost)
let caller = ToolCaller(agent: "bench")

enum Operation: String, CaseIterable { case memoryGet = "memory_get", memoryWrite = "memory_write", skillsSearch = "skills_search" }
func arguments(_ operation: Operation, _ n: Int) -> JSONValue {
    switch operation {
    case .memoryGet: return ["id": .string("mem_\(1 + (n * 7919) % memories)")]
    case .memoryWrite: return ["type": "episodic", "text": .string("bench note \(n) about \(words[n % words.count])"), "scope": "agent"]
    case .skillsSearch: return ["query": .string(words[n % words.count])]
    }
}

/// `calls` calls from `clients` concurrent clients spread over the hosts; calls per second (traces
/// written included) and the median latency in ms.
func measure(_ hosts: [ToolHost], _ operation: Operation, calls: Int) async -> (rate: Double, p50: Double, failed: Int) {
    let perClient = max(1, calls / clients)
    let clock = ContinuousClock()
    let start = clock.now
    let results = await withTaskGroup(of: ([Double], Int).self) { group in
        for client in 0..<clients {
            let router = hosts[client % hosts.count].router
            group.addTask {
                var latencies: [Double] = [], failed = 0
                latencies.reserveCapacity(perClient)
                for i in 0..<perClient {
                    let began = clock.now
                    let outcome = await router.call(operation.rawValue, arguments: arguments(operation, client * perClient + i), caller: caller, session: "bench")
                    let took = clock.now - began
                    latencies.append(Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000)
                    if outcome.status != .succeeded { failed += 1 }
                }
                return (latencies, failed)
            }
        }
        var all: [([Double], Int)] = []
        for await r in group { all.append(r) }
        return all
    }
    for host in hosts { await host.router.recorder.flush() }
    let took = clock.now - start
    let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
    let latencies = results.flatMap(\.0).sorted()
    return (Double(latencies.count) / seconds, latencies[latencies.count / 2], results.map(\.1).reduce(0, +))
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

print("SQLite and PostgreSQL behind the router (\(calls) calls per row, \(clients) clients, \(memories) memories, 300 skills; PostgreSQL \(server.port) on this machine)")
let configurations: [(String, [ToolHost])] = [("1 host, SQLite", [sqliteHost]), ("1 host, PostgreSQL", [postgresHosts[0]]),
                                               ("3 hosts, one PostgreSQL", postgresHosts)]
let operations = Operation.allCases.filter { only == nil || $0.rawValue == only }
for operation in operations {
    for (_, hosts) in configurations { _ = await measure(hosts, operation, calls: 400) }   // warm: pools, statements, caches
}
for round in 1...rounds {
    print("\nround \(round)")
    print(pad("call", 15) + pad("setup", 26) + lpad("calls/s", 10) + lpad("p50 ms", 9) + lpad("x SQLite", 10) + lpad("x 1 host", 10) + lpad("failed", 8))
    for operation in operations {
        var rates: [Double] = []
        for (name, hosts) in configurations {
            let (rate, p50, failed) = await measure(hosts, operation, calls: calls)
            rates.append(rate)
            let scale = rates.count == 3 ? f(rate / rates[1], 2) : ""
            print(pad(operation.rawValue, 15) + pad(name, 26) + lpad(f(rate), 10) + lpad(f(p50, 2), 9) + lpad(f(rate / rates[0], 2), 10)
                  + lpad(scale, 10) + lpad("\(failed)", 8))
        }
    }
}
print("\nx 1 host: three hosts' total against one PostgreSQL host. All hosts and the server share this machine's cores,")
print("so the scaling shown is a floor: on separate machines each host brings its own CPU.")
