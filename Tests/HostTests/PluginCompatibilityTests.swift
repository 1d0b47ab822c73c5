import Base
import Foundation
import Plugins
import Registry
import Testing
@testable import Host

/// The contract every built-in plugin keeps, checked the same way for each: valid names and
/// JSON Schemas, results that match their output schema, bad arguments answered with errors (never
/// a crash), cancellation honoured, and trace events for every call.
@Suite(.serialized) struct PluginCompatibilityTests {
    static let manifest = """
        version: 1
        sources:
          - name: local
            path: ./skills
        policy:
          default: allow
          rules:
            - allow: [write_file, memory_write_global]
        plugins:
          file: { roots: [./files] }
          memory: {}
          export: {}
          skills: {}
        """

    /// A host with every built-in plugin enabled, its skills synced, and a file to read.
    func withHost(_ body: (HostContext, ToolHost) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try write("---\nname: release-notes\ndescription: Drafts release notes.\n---\nSteps.\n", to: "skills/release-notes/SKILL.md", in: dir)
            try write("Guide.\n", to: "skills/release-notes/references/guide.md", in: dir)
            try write("hello\n", to: "files/notes.txt", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            _ = try context.syncer.sync()
            try await body(context, try context.tools())
        }
    }

    /// A valid call of every tool (`memory_get` and `memory_delete` use the id `memory_write` returned).
    static let validArguments: [String: JSONValue] = [
        "read_file": ["path": "notes.txt"], "list_files": [:], "write_file": ["path": "out.txt", "content": "x"],
        "memory_write": ["type": "core", "text": "compatibility"], "memory_get": ["id": "ID"], "memory_search": ["query": "compatibility"],
        "memory_delete": ["id": "ID"], "export_trace": ["limit": 10], "skills_search": ["query": "release"],
        "skills_get": ["name": "release-notes"],
    ]

    let caller = ToolCaller(agent: "compat", role: nil)

    @Test func everyToolHasAValidNameAndDescriptor() async throws {
        try await withHost { _, tools in
            #expect(Set(tools.router.descriptors.map(\.name)) == Set(Self.validArguments.keys))
            // The catalog the manifest validator uses agrees with what the plugins offer.
            #expect(Set(PluginCatalog.builtin.flatMap(\.tools)) == Set(tools.router.descriptors.map(\.name)))
            #expect(Set(PluginCatalog.builtin.flatMap(\.highRiskTools)) == Set(tools.router.descriptors.filter { $0.risk == .high }.map(\.name)))
            for tool in tools.router.descriptors {
                #expect(tool.name.count <= 64 && tool.name.range(of: "^[a-zA-Z0-9_-]+$", options: .regularExpression) != nil)
                #expect(!tool.title.isEmpty && !tool.description.isEmpty)
                #expect(tool.inputSchema["type"] == "object")
            }
        }
    }

    @Test func everySchemaIsValidJSONSchema202012() async throws {
        let python = try #require(testPython(), "the test virtualenv (make test) provides jsonschema")
        try await withHost { context, tools in
            let schemas = JSONValue.array(tools.router.descriptors.flatMap { tool in
                [tool.inputSchema] + (tool.outputSchema.map { [$0] } ?? [])
            })
            let file = PathText.join(context.manifest.directory, "schemas.json")
            try schemas.jsonData.write(to: URL(fileURLWithPath: file))
            let check = try run(python, ["-c", """
                import json, sys
                from jsonschema import Draft202012Validator
                for schema in json.load(open(sys.argv[1])):
                    Draft202012Validator.check_schema(schema)
                print("ok")
                """, file])
            #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
        }
    }

    @Test func validCallsSucceedAndMatchTheirOutputSchema() async throws {
        try await withHost { _, tools in
            var memoryId = ""
            for name in ["memory_write", "memory_get", "memory_search", "memory_delete", "read_file", "list_files", "write_file",
                         "export_trace", "skills_search", "skills_get"] {
                var arguments = Self.validArguments[name]!
                if arguments["id"] == "ID" { arguments = ["id": .string(memoryId)] }
                let outcome = await tools.router.call(name, arguments: arguments, caller: caller, session: "valid")
                #expect(outcome.status == .succeeded, "\(name): \(outcome.result.text)")
                if name == "memory_write" { memoryId = outcome.result.structuredContent?["id"]?.stringValue ?? "" }
                if let schema = tools.router.descriptor(named: name)?.outputSchema {
                    let structured = try #require(outcome.result.structuredContent, "\(name) declares an output schema")
                    #expect(SchemaValidator.problems(in: structured, schema: schema).isEmpty, "\(name)")
                }
            }
        }
    }

    /// Arguments that break each tool's schema in every way we can generate from the schema itself.
    static func badArguments(for tool: ToolDescriptor) -> [JSONValue] {
        let properties = tool.inputSchema["properties"]?.objectValue ?? [:]
        let required = tool.inputSchema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var valid = validArguments[tool.name]?.objectValue ?? [:]
        if valid["id"] != nil { valid["id"] = "mem_1" }
        var cases: [JSONValue] = [.array([]), .string("not an object"), .int(7), .object(valid.merging(["unexpected_field": true]) { $1 })]
        if !required.isEmpty { cases.append(.object([:])) }
        for (key, schema) in properties {
            let wrong: [JSONValue]
            switch schema["type"]?.stringValue {
            case "string": wrong = [.int(1), .array([]), .null, .string(String(repeating: "x", count: 100_000)) ]
            case "integer": wrong = [.string("1"), .double(1.5), .int(-1), .int(Int.max)]
            case "number": wrong = [.string("0.5"), .double(-1), .double(99)]
            case "boolean": wrong = [.string("true"), .int(1)]
            case "array": wrong = [.string("a"), .array([.int(1), .object([:])])]
            case "object": wrong = [.string("{}"), .array([])]
            default: wrong = [.object(["nested": .array([])])]
            }
            for value in wrong { cases.append(.object(valid.merging([key: value]) { $1 })) }
        }
        return cases
    }

    @Test func badArgumentsGetErrorResultsAndNeverACrash() async throws {
        try await withHost { _, tools in
            var checked = 0
            for tool in tools.router.descriptors {
                for arguments in Self.badArguments(for: tool) {
                    let outcome = await tools.router.call(tool.name, arguments: arguments, caller: caller, session: "bad")
                    let invalid = !SchemaValidator.problems(in: arguments, schema: tool.inputSchema).isEmpty
                    if invalid {
                        #expect(outcome.status == .failed && outcome.result.isError, "\(tool.name) \(arguments.jsonText.prefix(80))")
                        #expect(outcome.result.text.hasPrefix("Invalid arguments for \(tool.name): "))
                    }
                    // Valid-but-odd arguments (a huge string, a large number) may succeed or fail, but always as a result.
                    #expect(!outcome.result.content.isEmpty)
                    checked += 1
                }
            }
            #expect(checked > 150)
        }
    }

    @Test func aCancelledCallIsAnsweredAsCancelled() async throws {
        try await withHost { _, tools in
            for tool in tools.router.descriptors {
                let router = tools.router
                let arguments = Self.validArguments[tool.name]!
                let caller = self.caller
                let task = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return await router.call(tool.name, arguments: arguments, caller: caller, session: "cancel")
                }
                let outcome = await task.value
                #expect(outcome.status == .failed && outcome.reason == "cancelled", "\(tool.name): \(outcome.result.text)")
            }
        }
    }

    @Test func everyCallLeavesTraceEvents() async throws {
        try await withHost { context, tools in
            var spans: [String: String] = [:]
            for tool in tools.router.descriptors {
                let outcome = await tools.router.call(tool.name, arguments: Self.validArguments[tool.name], caller: caller, session: "traced")
                spans[outcome.spanId] = tool.name
            }
            await tools.router.recorder.flush()
            let events = try context.db.traceEvents(TraceQuery(session: "traced", limit: 1000))
            for (span, tool) in spans {
                let types = events.filter { $0.spanId == span }.map(\.type)
                #expect(types.count == 2 && types[0] == "tool.called", "\(tool): \(types)")
                #expect(["tool.result", "tool.failed"].contains(types.last ?? ""), "\(tool)")
            }
        }
    }
}
