import Base
import Foundation
import Registry
import Testing

/// `agenthub mcp` as real clients and testers meet it: the Python `mcp` SDK (auto and legacy
/// modes), raw JSON-RPC for bad input and shutdown, amagi-mcp-probe, mcp-conform and mcp-assert fuzz.
@Suite(.serialized) struct MCPInteropTests {
    /// The shipped manifest and skills in a temporary folder, synced, with pages of 3 so lists need cursors.
    func withServedManifest(_ body: (String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: packageRoot + "/registry.yaml", toPath: dir + "/registry.yaml")
            try FileManager.default.copyItem(atPath: packageRoot + "/skills", toPath: dir + "/skills")
            let manifest = try String(contentsOfFile: dir + "/registry.yaml", encoding: .utf8)
            // Probes call every tool: an ask tool nobody answers ends after 2 s instead of 5 min.
            let quick = manifest.replacingOccurrences(of: "approval_timeout: 5m", with: "approval_timeout: 2s")
            try (quick + "\nmcp:\n  page_size: 3\n").write(toFile: dir + "/registry.yaml", atomically: true, encoding: .utf8)
            let synced = try await run(agenthubBinary(), ["sync"], in: dir)
            #expect(synced.status == 0, "sync: \(synced.stderr)")
            try await body(dir)
        }
    }

    func python() throws -> String {
        try #require(testPython(), "no test virtualenv with the mcp SDK: run `make test` (it creates .venv)")
    }

    func tool(_ name: String) throws -> String {
        let path = PathText.parent(try python()) + "/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) is not in the test virtualenv: run `make test`")
        return path
    }

    /// Runs one of the Python scenario scripts and returns its JSON report, recording its failures.
    func scenario(_ script: String, _ arguments: [String], in dir: String) async throws -> [String: Any] {
        let result = try await run(try python(), [packageRoot + "/Tests/Interop/" + script] + arguments, in: dir)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "\(script) printed no report (exit \(result.status)): \(result.stderr.suffix(2000))")
        let failures = report["failures"] as? [String] ?? ["no failures list"]
        for failure in failures { Issue.record("\(script): \(failure)") }
        #expect((report["checks"] as? Int ?? 0) > 20, "\(script) ran too few checks")
        return report
    }

    @Test(arguments: ["auto", "legacy"])
    func thePythonSDKUsesEveryToolResourceAndPrompt(mode: String) async throws {
        try await withServedManifest { dir in
            let report = try await scenario("mcp_sdk_client.py", [mode, agenthubBinary(), dir], in: dir)
            // Not a timing assertion: a server that ignored server/discover would make the client wait 10 s.
            let connect = report["connect_seconds"] as? Double ?? 99
            #expect(connect < 5, "\(mode): connecting took \(connect) s; the discover fallback must not wait for a timeout")
        }
    }

    @Test func badInputGetsJSONRPCErrorsAndShutdownIsClean() async throws {
        try await withServedManifest { dir in
            let report = try await scenario("mcp_raw_protocol.py", [agenthubBinary(), dir], in: dir)
            #expect(report["eof_exit_seconds"] as? Double != nil && report["sigterm_exit_seconds"] as? Double != nil)
        }
    }

    @Test func amagiProbeStrictPasses() async throws {
        try await withServedManifest { dir in
            let seeded = try await run(agenthubBinary(), ["tools", "call", "memory_write", "--role", "editor", "--group", "writers", "--agent", "probe",
                                                    "--args", #"{"type":"episodic","text":"probe fixture"}"#], in: dir)
            #expect(seeded.stdout.contains("mem_1"))
            let args: [String: Any] = [
                "read_file": ["path": "incident-review/SKILL.md"], "list_files": ["path": "."], "memory_get": ["id": "mem_1"],
                "memory_search": ["query": "probe"], "skills_search": ["query": "review"], "skills_get": ["name": "incident-review"],
            ]
            try JSONSerialization.data(withJSONObject: args).write(to: URL(fileURLWithPath: dir + "/probe-args.json"))
            let result = try await run(try tool("amagi-mcp-probe"), ["--strict", "--args", "probe-args.json", "--", agenthubBinary(), "mcp",
                                                               "--role", "editor", "--group", "writers", "--agent", "probe"], in: dir)
            #expect(result.status == 0, "amagi-mcp-probe --strict failed:\n\(result.stdout)\n\(result.stderr.suffix(1500))")
            #expect(result.stdout.contains("PASS"))
        }
    }

    @Test func mcpConformPasses() async throws {
        try await withServedManifest { dir in
            let result = try await run(try tool("mcp-conform"), ["server", "--transport", "stdio", "--command",
                                                           "\(agenthubBinary()) mcp --role researcher"], in: dir)
            #expect(result.status == 0, "mcp-conform failed:\n\(result.stdout.suffix(3000))")
            #expect(result.stdout.contains("Result: PASS"))
        }
    }

    @Test func fuzzingFindsNoCrashOrHang() async throws {
        try await withServedManifest { dir in
            let result = try await run(try tool("mcp-assert"), ["fuzz", "--server", "\(agenthubBinary()) mcp --role editor --group writers --agent fuzz",
                                                          "--runs", "30", "--seed", "20261122", "--json"], in: dir)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                      "mcp-assert printed no report: \(result.stderr.suffix(1500))")
            let tools = report["tools"] as? [[String: Any]] ?? []
            let runs = tools.reduce(0) { $0 + ($1["runs"] as? Int ?? 0) }
            #expect(runs >= 200, "only \(runs) fuzz inputs ran")
            // Inputs the fuzzer's own client cannot encode (NaN, ±Inf) never reach the server; every other failure counts.
            let failures = tools.flatMap { tool in (tool["failures"] as? [[String: Any]] ?? []).map { (tool["tool"] as? String ?? "?", $0) } }
            let real = failures.filter { !(($0.1["detail"] as? String ?? "").contains("failed to marshal request")) }
            #expect(real.isEmpty, "fuzz failures: \(real.map { "\($0.0): \($0.1)" })")
        }
    }
}
