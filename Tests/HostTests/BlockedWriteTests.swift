import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// Calls stuck on a registry another process holds for writing stall nothing else: `ping`, other
/// calls, a thousand pipelined requests, and shutdown (the real `agenthub mcp`, raw protocol).
@Suite(.serialized) struct BlockedWriteTests {
    static let manifest = """
        version: 1
        host: { database: registry.db, cache: cache }
        policy:
          default: deny
          rules:
            - allow: [memory_write, skills_search]
        roles:
          worker: {}
        plugins:
          memory: {}
          skills: {}
        """

    /// A Python process that holds the registry's write lock until its stdin closes.
    func holdWriteLock(_ dir: String) async throws -> RunningProcess {
        let python = try #require(testPython())
        let script = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()"
        let holder = try RunningProcess(python, ["-c", script, dir + "/registry.db"], in: dir)
        #expect(await holder.nextLine() == "locked")
        return holder
    }

    static func call(_ id: Int, _ tool: String, _ arguments: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"# + "\n"
    }

    /// Reads answers until the one with `id`; returns the ids answered before it.
    func answers(_ host: RunningProcess, until id: Int) async -> [Int]? {
        var before: [Int] = []
        while let line = await host.nextLine(timeout: 60) {
            guard let answered = jsonObject(line)["id"] as? Int else { continue }
            if answered == id { return before }
            before.append(answered)
        }
        return nil
    }

    @Test func twoCallsBlockedOnAHeldWriteLockLeavePingOtherCallsAndShutdownFree() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            let host = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", "w", "--no-sync"], in: dir)
            host.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"# + "\n")
            #expect(await answers(host, until: 1) == [])
            let holder = try await holdWriteLock(dir)
            defer { holder.closeInput() }

            // Two writes block on the lock; a read and a ping do not wait for them.
            host.send(Self.call(2, "memory_write", #"{"type": "episodic", "text": "first"}"#) + Self.call(3, "memory_write", #"{"type": "episodic", "text": "second"}"#))
            host.send(Self.call(4, "skills_search", #"{"query": "x"}"#))
            host.send(#"{"jsonrpc":"2.0","id":5,"method":"ping"}"# + "\n")
            let beforePing = await answers(host, until: 5)
            #expect(beforePing != nil && !(beforePing ?? []).contains(2) && !(beforePing ?? []).contains(3),
                    "ping waited for the blocked writes: \(String(describing: beforePing))")

            // A thousand more pipelined behind them: ping is still answered on arrival.
            host.send((100..<1100).map { Self.call($0, "memory_write", #"{"type": "episodic", "text": "n\#($0)"}"#) }.joined())
            host.send(#"{"jsonrpc":"2.0","id":5000,"method":"ping"}"# + "\n")
            let behind = await answers(host, until: 5000)
            #expect(behind != nil, "no answer to the ping sent behind 1,000 calls")
            #expect((behind ?? []).allSatisfy { $0 == 4 }, "answered before the ping: \(behind ?? [])")

            // SIGTERM while they wait and the lock is still held: the host still stops (calls in flight
            // are cancelled; the traces it cannot write are counted in its log, not waited for).
            host.signal(SIGTERM)
            #expect(await host.waitExit(timeout: 40), "agenthub mcp did not stop: \(host.stderr)")
            #expect(host.process.terminationStatus == 0, "\(host.stderr)")
        }
    }

    @Test func tracesOfACallAreWrittenWhenTheHostIsStoppedRightAfterIt() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            let host = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", "flush", "--no-sync"], in: dir)
            host.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"# + "\n")
            host.send(Self.call(2, "memory_write", #"{"type": "episodic", "text": "kept"}"#))
            #expect(await answers(host, until: 2) != nil)
            host.signal(SIGTERM)
            #expect(await host.waitExit())
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            var query = TraceQuery()
            query.agent = "flush"
            let events = try registry.traceEvents(query)
            #expect(events.map(\.type) == ["tool.called", "tool.result"], "\(events)")
            #expect(events.allSatisfy { $0.revision == ManifestLoader.revision(of: Data(Self.manifest.utf8)) })
        }
    }

    @Test func tenThousandCallsAndASIGTERMLoseNoTraceEvent() async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            let host = try RunningProcess(agenthubBinary(), ["mcp", "--role", "worker", "--agent", "many", "--no-sync"], in: dir)
            host.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"# + "\n")
            #expect(await answers(host, until: 1) != nil)
            // Ten thousand searches, 500 in flight at a time; SIGTERM the moment the last is answered,
            // while the trace writer still holds events in memory.
            let total = 10_000, window = 500
            var answered: Set<Int> = []
            for start in stride(from: 0, to: total, by: window) {
                host.send((start..<(start + window)).map { Self.call(1000 + $0, "skills_search", #"{"query": "q\#($0)"}"#) }.joined())
                // Answers may overtake each other: read until this chunk's calls are all answered.
                while answered.count < start + window, let line = await host.nextLine(timeout: 60) {
                    if let id = jsonObject(line)["id"] as? Int, id >= 1000 { answered.insert(id) }
                }
            }
            #expect(answered.count == total)
            host.signal(SIGTERM)
            #expect(await host.waitExit())
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            var events: [TraceEvent] = [], query = TraceQuery(agent: "many", limit: 5000)
            while true {
                let page = try registry.traceEvents(query)
                events += page
                guard let last = page.last, page.count == query.limit else { break }
                query.afterId = last.id
            }
            #expect(events.filter { $0.type == "tool.called" }.count == total)
            #expect(events.filter { $0.type == "tool.result" }.count == total)
            #expect(Set(events.map(\.spanId)).count == total, "every call's two events share its span")
        }
    }

}
