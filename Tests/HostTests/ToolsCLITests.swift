import Foundation
import Testing

/// `agenthub tools` and `agenthub export`, run as a user would, on the shipped manifest.
@Suite struct ToolsCLITests {
    /// A copy of the repository's registry.yaml and skills in a temporary folder.
    func withShippedManifest(_ body: (String) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: packageRoot + "/registry.yaml", toPath: dir + "/registry.yaml")
            try FileManager.default.copyItem(atPath: packageRoot + "/skills", toPath: dir + "/skills")
            try body(dir)
        }
    }

    /// `tools list` starts the shipped manifest's bridged `time` server (Python): async, so the wait
    /// never holds a thread of the cooperative pool.
    @Test func listShowsWhatTheRoleMayCallIncludingTheBridgedTimeServersTools() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.copyItem(atPath: packageRoot + "/registry.yaml", toPath: dir + "/registry.yaml")
            try FileManager.default.copyItem(atPath: packageRoot + "/skills", toPath: dir + "/skills")
            let researcher = try await run(agenthubBinary(), ["tools", "list", "--role", "researcher"], in: dir)
            #expect(researcher.status == 0)
            #expect(researcher.stdout.contains("memory_write") && researcher.stdout.contains("read_file"))
            #expect(!researcher.stdout.contains("write_file ") && !researcher.stdout.contains("memory_delete") && !researcher.stdout.contains("export_trace"))
            if testPython() != nil {
                #expect(researcher.stdout.contains("time__get_current_time"), "\(researcher.stderr)")
            }
            let json = try await run(agenthubBinary(), ["tools", "list", "--role", "editor", "--group", "writers", "--json"], in: dir)
            let tools = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
            let names = tools.compactMap { $0["name"] as? String }
            #expect(names.contains("export_trace") && names.contains("memory_delete"))
            #expect(tools.allSatisfy { $0["inputSchema"] != nil && $0["decision"] != nil })
        }
    }

    @Test func callExitsZeroOneOrTwo() throws {
        try withShippedManifest { dir in
            let written = try run(agenthubBinary(), ["tools", "call", "memory_write", "--role", "researcher", "--args", #"{"type":"episodic","text":"cli memory about otters"}"#], in: dir)
            #expect(written.status == 0 && written.stdout.contains("mem_"))
            let found = try run(agenthubBinary(), ["tools", "call", "memory_search", "--role", "researcher", "--args", #"{"query":"otters"}"#], in: dir)
            #expect(found.status == 0 && found.stdout.contains("**otters**"))
            let failed = try run(agenthubBinary(), ["tools", "call", "memory_get", "--role", "researcher", "--args", #"{"id":"mem_999"}"#], in: dir)
            #expect(failed.status == 1 && failed.stderr.contains("no memory with id 'mem_999'"))
            let denied = try run(agenthubBinary(), ["tools", "call", "write_file", "--role", "researcher", "--args", #"{"path":"x","content":"y"}"#], in: dir)
            let unknown = try run(agenthubBinary(), ["tools", "call", "nonexistent_tool", "--role", "researcher"], in: dir)
            #expect(denied.status == 2 && unknown.status == 2)
            #expect(denied.stderr.replacingOccurrences(of: "write_file", with: "T") == unknown.stderr.replacingOccurrences(of: "nonexistent_tool", with: "T"))
            #expect(try run(agenthubBinary(), ["tools", "call", "read_file", "--args", "{not json"], in: dir).status == 64)
            #expect(try run(agenthubBinary(), ["tools", "call", "read_file", "--role", "nobody"], in: dir).status == 64)
        }
    }

    @Test func explainNamesTheRuleAndItsLine() throws {
        try withShippedManifest { dir in
            let manifest = try String(contentsOfFile: dir + "/registry.yaml", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            let denyLine = manifest.firstIndex { $0.contains("- deny: [write_file]") }! + 1
            let result = try run(agenthubBinary(), ["tools", "explain", "write_file", "--role", "researcher"], in: dir)
            #expect(result.status == 0)
            #expect(result.stdout.contains("decision:  deny: blocked"))
            #expect(result.stdout.contains("registry.yaml:\(denyLine):"))
            let json = try run(agenthubBinary(), ["tools", "explain", "memory_get", "--role", "researcher", "--json"], in: dir)
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
            #expect(object["decision"] as? String == "allow")
            #expect((object["rule"] as? [String: Any])?["line"] as? Int != nil)
        }
    }

    @Test func exportPrintsTheSessionsEventsAsJSONL() throws {
        try withShippedManifest { dir in
            _ = try run(agenthubBinary(), ["tools", "call", "list_files", "--role", "researcher", "--session", "s-42"], in: dir)
            _ = try run(agenthubBinary(), ["tools", "call", "write_file", "--role", "researcher", "--session", "s-42", "--args", #"{"path":"a","content":"b"}"#], in: dir)
            let export = try run(agenthubBinary(), ["export", "--session", "s-42", "--format", "jsonl"], in: dir)
            #expect(export.status == 0)
            let types = export.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["type"] as? String
            }
            #expect(types == ["tool.called", "tool.result", "tool.called", "tool.blocked"])
        }
    }
}
