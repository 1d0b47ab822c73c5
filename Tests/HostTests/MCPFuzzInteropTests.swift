import Base
import Foundation
import Registry
import Testing

/// mcp-fuzzer (tools and protocol modes) and mcp-adversarial against `agenthub mcp` with every
/// built-in tool allowed, `write_file` by its exact name: the server never crashes.
@Suite(.serialized) struct MCPFuzzInteropTests {
    static let manifest = """
        version: 1
        sources:
          - { name: local, path: ./skills }
        policy:
          default: deny
          rules:
            - allow: [write_file, read_file, list_files, memory_write, memory_get, memory_search, memory_delete,
                      skills_search, skills_get, export_trace]
        roles:
          fuzz: { skills: ["*"] }
        plugins:
          file: { roots: [./files] }
          memory: {}
          skills: {}
          export: {}
        """

    /// A folder with the manifest and a script that serves it, its stderr kept in `stderr.log`.
    func withServer(_ body: (_ dir: String, _ command: String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try write("---\nname: demo\ndescription: A demo skill.\n---\nBody.\n", to: "skills/demo/SKILL.md", in: dir)
            try write("hello\n", to: "files/hello.txt", in: dir)
            let script = dir + "/serve.sh"
            try write("#!/bin/sh\ncd '\(dir)'\nexec '\(agenthubBinary())' mcp --role fuzz --agent fuzzer 2>>'\(dir)/stderr.log'\n", to: "serve.sh", in: dir)
            chmod(script, 0o755)
            try await body(dir, script)
            let stderr = (try? String(contentsOfFile: dir + "/stderr.log", encoding: .utf8)) ?? ""
            for marker in ["Fatal error", "Program crashed", "Illegal instruction", "Segmentation fault"] {
                #expect(!stderr.contains(marker), "the server crashed: \(stderr.components(separatedBy: marker).dropFirst().first?.prefix(1500) ?? "")")
            }
        }
    }

    func tool(_ name: String) throws -> String {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        let path = PathText.parent(python) + "/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) is not in the test virtualenv: run `make test`")
        return path
    }

    @Test func mcpFuzzerFindsNoCrashInToolsOrProtocolMode() async throws {
        try await withServer { dir, command in
            let tools = try await run(try tool("mcp-fuzzer"), ["--mode", "tools", "--protocol", "stdio", "--endpoint", command, "--runs", "6",
                                                               "--phase", "both", "--timeout", "20", "--seed", "20261202", "--fs-root", dir + "/fuzz-fs"], in: dir)
            #expect(tools.status == 0, "mcp-fuzzer tools: \(tools.stdout.suffix(2000)) \(tools.stderr.suffix(1000))")
            let summary = tools.stdout.components(separatedBy: "=== MCP Fuzzer Summary ===").last ?? ""
            #expect(summary.contains("write_file:"), "write_file was not fuzzed: \(summary.prefix(2000))")
            let crashes = summary.split(separator: "\n").filter { $0.contains("crashes") && !$0.contains(" 0 crashes") }
            #expect(crashes.isEmpty, "\(crashes)")
            let protocolRun = try await run(try tool("mcp-fuzzer"), ["--mode", "protocol", "--protocol", "stdio", "--endpoint", command,
                                                                     "--runs-per-type", "4", "--protocol-phase", "aggressive", "--timeout", "20",
                                                                     "--seed", "20261202"], in: dir)
            #expect(protocolRun.status == 0, "mcp-fuzzer protocol: \(protocolRun.stdout.suffix(2000)) \(protocolRun.stderr.suffix(1000))")
        }
    }

    @Test func mcpAdversarialGenericFixturesPass() async throws {
        try await withServer { dir, command in
            let result = try await run(try tool("mcp-adversarial"), ["run", "--server", command, "--report", dir + "/report.json", "--timeout", "20"], in: dir)
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))
            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "no report: \(result.stderr.suffix(1000))")
            // The packaged set also holds fixtures for another server's tool (review_plan); only ours count.
            let generic = (report["results"] as? [[String: Any]] ?? []).filter { ($0["fixture_id"] as? String ?? "").hasPrefix("generic_") }
            #expect(generic.count >= 5)
            for fixture in generic {
                #expect(fixture["passed"] as? Bool == true, "\(fixture["fixture_id"] ?? "?"): \(fixture["reasons"] ?? "")")
            }
        }
    }
}
