import Foundation
import Testing
import Base
import TestSupport
@testable import Host

/// Three `agenthub serve` processes, each in a folder of its own (as on three machines), on one
/// PostgreSQL database, with one git source behind a server that counts fetches.
struct Cluster: Sendable {
    let server: PrivatePostgres
    let root: String
    let git: ServerProcess
    let repo: GitRemoteFixture
    var hosts: [RunningProcess] = []
    var ports: [Int] = []
    var keys: [String: String] = [:]
    let environment: [String: String]
    static let interval = 2.0

    init(server: PrivatePostgres, root: String) throws {
        self.server = server
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/origin", withIntermediateDirectories: true)
        try write("0", to: "git-delay", in: root)
        git = try ServerProcess.gitHTTP(root: root + "/origin", stats: root + "/git-stats.json", delayFile: root + "/git-delay")
        repo = try GitRemoteFixture(root: root + "/origin")
        try repo.skill("alpha", description: "The first skill.")
        try repo.commitAndPush()
        var env = ProcessInfo.processInfo.environment
        env["AGENTHUB_KEY_PEPPER"] = "a-pepper-every-host-on-this-database-shares"
        env["AGENTHUB_BINARY"] = agenthubBinary()
        environment = env
    }

    func manifest() -> String {
        """
        version: 1
        host: { database: "\(server.url())", cache: cache }
        sync: { interval: \(Int(Self.interval))s, timeout: 60s }
        sources:
          - { name: team, git: "http://127.0.0.1:\(git.port)/remote.git" }
        policy:
          default: deny
          approval_timeout: 2m
          rules:
            - allow: [skills_search, memory_search, read_file]
            - ask: [memory_write]
        plugins:
          memory: {}
          skills: {}
          file: { roots: [./files] }
        agents:
          writer: { role: researcher }
          boss: { role: editor, admin: true }
        roles:
          researcher: { skills: ["*"] }
          editor: { skills: ["*"] }
        """
    }

    func folder(_ host: Int) -> String { root + "/host\(host)" }

    /// Starts `count` hosts (keys made once, through the first host's folder) and waits until each is ready.
    mutating func start(_ count: Int) async throws {
        for host in 0..<count {
            try write(manifest(), to: "registry.yaml", in: folder(host))
            try write("host \(host) notes\n", to: "files/notes.txt", in: folder(host))
        }
        for agent in ["writer", "boss"] {
            let made = try await run(agenthubBinary(), ["keys", "create", "--agent", agent], in: folder(0), environment: environment)
            guard made.status == 0 else { throw FixtureError("keys create: \(made.stderr)") }
            keys[agent] = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for host in 0..<count {
            let process = try RunningProcess(agenthubBinary(), ["serve", "--http", "127.0.0.1:0"], in: folder(host), environment: environment)
            hosts.append(process)
            guard let text = await process.waitForStderr("listening on http://127.0.0.1:"),
                  let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let port = Int(text[range].split(separator: ":").last ?? "") else {
                throw FixtureError("serve did not start: \(process.stderr)")
            }
            ports.append(port)
        }
        for host in 0..<count {
            guard await waitFor({ await http(ports[host], "GET", "/ready")?.status == 200 }) else {
                throw FixtureError("host \(host) is not ready: \(await http(ports[host], "GET", "/ready")?.body ?? "no answer")")
            }
        }
    }

    func stop() {
        for host in hosts { host.signal(SIGTERM) }
        git.stop()
    }

    func call(_ host: Int, _ method: String, _ path: String, as agent: String, body: String? = nil, headers: [String: String] = [:]) async -> HTTPAnswer {
        await http(ports[host], method, path, headers: headers.merging(["Authorization": "Bearer \(keys[agent] ?? "")"]) { $1 }, body: body)
            ?? HTTPAnswer(status: 0, headers: [:], body: "no answer")
    }

    /// Fetches the git server has answered (ref advertisements asked for).
    func fetches() -> Int {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: root + "/git-stats.json"))) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Int])?["fetches"] ?? 0
    }

    /// The pid in the owner of the source's sync lease, while one is held.
    func leaseHolder() throws -> Int32? {
        let owner = try server.psql("SELECT owner FROM sync_leases WHERE source = 'team' AND owner IS NOT NULL")
        let parts = owner.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        return parts.count == 3 ? Int32(parts[1]) : nil
    }
}

/// Polls `condition` every 100 ms for up to `seconds`.
func waitFor(seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
    await eventually(seconds: seconds) { await condition() ? true : nil } ?? false
}

/// Polls `body` every 100 ms for up to `seconds` until it gives a value.
func eventually<T>(seconds: Double = 30, _ body: () async -> T?) async -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = await body() { return value }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await body()
}

/// What the issue asks of several hosts on one database, end to end: one fetch per interval among
/// them; an approval answered on one host releasing a call waiting on another while a third host's
/// event stream shows both; a database restart in the middle of calls that crashes no host, loses
/// no event of a call that ran and keeps `/ready` honest; a host killed mid-sync whose lease another
/// host takes over.
@Suite(.serialized) struct PostgresClusterTests {
    @Test func threeHostsShareOneSourceOneApprovalDeskAndOneEventLogAndOutliveARestartAndAKilledHost() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { root in
            var cluster = try Cluster(server: server, root: root)
            defer { cluster.stop() }
            try await cluster.start(3)
            try await everyHostServesTheFirstSyncAndTheSourceIsFetchedOncePerInterval(cluster)
            try await anApprovalOnOneHostReleasesACallOnAnotherAndAThirdStreamsBoth(cluster)
            try await aTaskOnOneHostIsFollowedAnsweredAndCancelledFromAnother(cluster)
            try await aDatabaseRestartMidCallsStopsNoHostAndLosesNoEvent(cluster)
            try await aHostKilledMidSyncLosesItsLeaseAndIsListedAsGone(cluster)
            for host in cluster.hosts { #expect(!host.stderr.contains(server.password), "a host logged the database password") }
        }
    }

    func everyHostServesTheFirstSyncAndTheSourceIsFetchedOncePerInterval(_ c: Cluster) async throws {
        for host in 0..<3 {
            #expect(await waitFor { await c.call(host, "GET", "/v1/skills?q=alpha", as: "writer").body.contains("\"alpha\"") }, "host \(host)")
        }
        // Over six intervals, at most one fetch more than six (each host alone would make six).
        let before = c.fetches()
        try await Task.sleep(for: .seconds(Cluster.interval * 6))
        let fetched = c.fetches() - before
        print("fetches in 6 intervals by 3 hosts: \(fetched)")
        #expect(fetched >= 1 && fetched <= 7, "\(fetched) fetches in 6 intervals")
    }

    func anApprovalOnOneHostReleasesACallOnAnotherAndAThirdStreamsBoth(_ c: Cluster) async throws {
        let port = c.ports[2], key = c.keys["boss"] ?? ""
        let events = Task { await streamedTypes(port: port, key: key, until: "approval.resolved") }
        let waiting = Task { await c.call(0, "POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"asked on host 0"}}"#) }
        let id = try #require(await eventually { await c.pendingApproval(on: 1) })
        let approved = await c.call(1, "POST", "/v1/approvals/\(id)/approve", as: "boss", body: #"{"scope":"call","reason":"ok"}"#)
        let answeredAt = ContinuousClock.now
        #expect(approved.status == 200, "\(approved.body)")
        let released = await waiting.value
        print("approval on host 1 released the call on host 0 after \(ContinuousClock.now - answeredAt)")
        #expect(released.status == 200 && released.json["isError"] as? Bool == false, "\(released.body)")
        let (streamed, resolvedAt) = await events.value
        print("the answer reached host 2's event stream after \(resolvedAt - answeredAt)")
        #expect(streamed.contains("approval.requested") && streamed.contains("approval.resolved"), "host 2 streamed \(streamed)")
    }

    func aDatabaseRestartMidCallsStopsNoHostAndLosesNoEvent(_ c: Cluster) async throws {
        let calls = Task { await c.readNotes(times: 90) }
        try await Task.sleep(for: .seconds(2))
        await c.server.halted()
        #expect(await waitFor { await http(c.ports[1], "GET", "/ready")?.status == 503 }, "host 1 claimed ready with the database down")
        try await Task.sleep(for: .seconds(2))
        try await c.server.started()
        let answered = await calls.value
        for host in 0..<3 {
            #expect(await waitFor(seconds: 60) { await http(c.ports[host], "GET", "/ready")?.status == 200 }, "host \(host) did not recover")
            #expect(c.hosts[host].process.isRunning, "host \(host) stopped: \(c.hosts[host].stderr.suffix(2000))")
        }
        var logged = await eventually { let n = await c.readFileResults(on: 2); return n >= answered ? n : nil }
        if logged == nil { logged = await c.readFileResults(on: 2) }
        print("read_file calls answered across the restart: \(answered), in the log: \(logged ?? 0)")
        #expect(answered > 0 && (logged ?? 0) >= answered, "\(answered) calls answered, \(logged ?? 0) logged")
    }

    /// Starts `memory_write` (an `ask` tool) as a task on `host`: it waits for its approval.
    func askTask(_ c: Cluster, on host: Int, _ text: String) async throws -> String {
        let started = await c.call(host, "POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments":{"type":"core","text":"\#(text)"}}"#,
                                   headers: ["Prefer": "respond-async"])
        #expect(started.status == 202, "\(started.body)")
        return try #require(started.json["id"] as? String, "\(started.body)")
    }

    /// The task's status as `host` reads it, once it is one of `statuses`.
    func taskStatus(_ c: Cluster, _ id: String, on host: Int, becomes statuses: Set<String>, seconds: Double = 30) async -> [String: Any]? {
        await eventually(seconds: seconds) { () -> [String: Any]? in
            let task = await c.call(host, "GET", "/v1/tasks/\(id)", as: "writer").json
            return statuses.contains(task["status"] as? String ?? "") ? task : nil
        }
    }

    func aTaskOnOneHostIsFollowedAnsweredAndCancelledFromAnother(_ c: Cluster) async throws {
        // Started on host 0, read on host 1, its approval answered on host 2: host 0 runs it to its end.
        let answered = try await askTask(c, on: 0, "a task asked on host 0")
        let waiting = await taskStatus(c, answered, on: 1, becomes: ["input_required"])
        let approval = try #require(waiting?["approval_id"] as? String, "\(String(describing: waiting))")
        let approved = await c.call(2, "POST", "/v1/approvals/\(approval)/approve", as: "boss", body: #"{"scope":"call"}"#)
        #expect(approved.status == 200, "\(approved.body)")
        let done = await taskStatus(c, answered, on: 1, becomes: ["completed", "failed", "cancelled"])
        #expect(done?["status"] as? String == "completed" && (done?["result"] as? [String: Any])?["isError"] as? Bool == false, "\(String(describing: done))")
        // Cancelled on host 1: host 0, which runs it, stops it.
        let cancelled = try await askTask(c, on: 0, "a task cancelled on host 1")
        _ = await taskStatus(c, cancelled, on: 1, becomes: ["input_required"])
        #expect(await c.call(1, "POST", "/v1/tasks/\(cancelled)/cancel", as: "writer").status == 200)
        let ended = await taskStatus(c, cancelled, on: 2, becomes: ["completed", "failed", "cancelled"])
        #expect(ended?["status"] as? String == "cancelled", "\(String(describing: ended))")
    }

    func aHostKilledMidSyncLosesItsLeaseAndIsListedAsGone(_ c: Cluster) async throws {
        // Fetches hang while a new commit waits: whoever holds the lease is killed mid-fetch.
        try write("30", to: "git-delay", in: c.root)
        try c.repo.skill("beta", description: "The second skill.")
        try c.repo.commitAndPush()
        let holder = try #require(await eventually(seconds: 60) { try? c.leaseHolder() }, "nobody took the lease")
        let victim = try #require(c.hosts.firstIndex { $0.process.processIdentifier == holder }, "lease held by \(holder)")
        // A task it runs (waiting for its approval) when it dies.
        let orphan = try await askTask(c, on: victim, "a task whose host is killed")
        _ = await taskStatus(c, orphan, on: victim, becomes: ["input_required"])
        kill(holder, SIGKILL)
        try write("0", to: "git-delay", in: c.root)
        let survivors = (0..<3).filter { $0 != victim }
        let tookOver = await waitFor(seconds: 120) {
            await c.call(survivors[0], "GET", "/v1/skills?q=beta", as: "writer").body.contains("\"beta\"")
        }
        #expect(tookOver, "no host took over the killed host's lease")
        #expect(await c.call(survivors[1], "GET", "/v1/skills?q=beta", as: "writer").body.contains("\"beta\""))
        // It misses its heartbeats and is listed as gone; the others as running.
        let listed = await eventually(seconds: 90) { () -> [[String: Any]]? in
            let listed = await c.hosts(on: survivors[0])
            return listed.contains { $0["pid"] as? Int == Int(holder) && $0["state"] as? String == "gone" } ? listed : nil
        }
        let now = await c.hosts(on: survivors[0])
        #expect(listed != nil, "the killed host was not listed as gone: \(now)")
        #expect(now.filter { $0["state"] as? String == "running" }.count == 2, "\(now)")
        // Its task ends failed on the others, never `working` or `input_required` forever.
        let failed = await taskStatus(c, orphan, on: survivors[1], becomes: ["failed", "completed", "cancelled"], seconds: 90)
        #expect(failed?["status"] as? String == "failed" && failed?["status_message"] as? String == "the host stopped while the task ran", "\(String(describing: failed))")
        // `agenthub status`, from any machine's folder, says the same.
        let status = try await run(agenthubBinary(), ["status", "--json"], in: c.folder(survivors[0]), environment: c.environment)
        let listedHosts = jsonObject(status.stdout)["hosts"] as? [[String: Any]] ?? []
        #expect(listedHosts.contains { $0["pid"] as? Int == Int(holder) && $0["state"] as? String == "gone" }, "\(status.stdout) \(status.stderr)")
        for host in survivors {
            c.hosts[host].signal(SIGTERM)
            #expect(await c.hosts[host].waitExit(timeout: 30))
        }
    }
}

/// The types of the events a host streams (`GET /v1/events/stream`), until one of type `last`, and
/// when that one arrived.
func streamedTypes(port: Int, key: String, until last: String) async -> (types: [String], at: ContinuousClock.Instant) {
    await onThread {
        guard let stream = SSEStream(port, "/v1/events/stream", headers: ["Authorization": "Bearer \(key)"]), stream.head() else { return ([], .now) }
        var types: [String] = []
        while !types.contains(last), let event = stream.next(timeout: 60) {
            types.append(jsonObject(event.data)["type"] as? String ?? "?")
        }
        return (types, .now)
    }
}

extension Cluster {
    func pendingApproval(on host: Int) async -> String? {
        (await call(host, "GET", "/v1/approvals", as: "boss").json["approvals"] as? [[String: Any]])?.first?["id"] as? String
    }

    /// Reads `notes.txt` `times` times, 100 ms apart, round the hosts; how many calls answered 200.
    func readNotes(times: Int) async -> Int {
        var ok = 0
        for i in 0..<times {
            if await call(i % hosts.count, "POST", "/v1/tools/read_file/call", as: "writer", body: #"{"arguments":{"path":"notes.txt"}}"#).status == 200 { ok += 1 }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return ok
    }

    /// `read_file` results in the event log, read through `host`.
    func readFileResults(on host: Int) async -> Int {
        let events = await call(host, "GET", "/v1/events?type=tool.result&limit=500", as: "boss").json["events"] as? [[String: Any]] ?? []
        return events.filter { $0["tool"] as? String == "read_file" }.count
    }

    func hosts(on host: Int) async -> [[String: Any]] {
        await call(host, "GET", "/v1/hosts", as: "boss").json["hosts"] as? [[String: Any]] ?? []
    }
}
