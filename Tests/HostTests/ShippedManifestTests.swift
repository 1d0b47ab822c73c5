import Foundation
import Testing
@testable import Host
@testable import Plugins

@Suite struct ShippedManifestTests {
    @Test func theDefaultManifestLoadsAsShipped() throws {
        let manifest = try ManifestLoader.load(path: packageRoot + "/registry.yaml", environment: [:])
        #expect(manifest.sources.map(\.name) == ["local"])
        #expect(manifest.plugins.mcp?.servers.first?.env["TZ"] == "UTC")
        #expect(manifest.warnings.isEmpty)
    }

    @Test func theDefaultManifestValidatesAgainstTheSchema() throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test` (it creates .venv with jsonschema)")
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            jsonschema.validate(yaml.safe_load(open(sys.argv[2])), schema)
            print("valid")
            """
        let result = try run(python, ["-c", script, packageRoot + "/registry.schema.json", packageRoot + "/registry.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("valid"))
    }

    /// Every key the loader reads is in the schema, and the schema offers no key the loader rejects.
    @Test func theSchemaAndTheLoaderKnowTheSameKeys() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/registry.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func keys(_ path: [String]) -> Set<String> {
            var node: Any = schema
            for step in path { node = (node as? [String: Any])?[step] as Any }
            return Set(((node as? [String: Any])?["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
        }
        let props = ["properties"]
        #expect(keys([]) == Set(Manifest.keys))
        #expect(keys(props + ["host"]) == Set(HostSettings.keys))
        #expect(keys(props + ["sync"]) == Set(SyncSettings.keys))
        #expect(keys(props + ["http"]) == Set(HTTPSettings.keys))
        #expect(keys(props + ["agents", "additionalProperties"]) == Set(AgentConfig.keys))
        #expect(keys(props + ["sources", "items"]) == Set(SourceConfig.keys))
        #expect(keys(props + ["sources", "items", "properties", "ref"]) == Set(SourceConfig.GitRef.keys))
        #expect(keys(props + ["policy"]) == Set(PolicyConfig.keys))
        #expect(keys(props + ["roles", "additionalProperties"]) == Set(RoleConfig.keys))
        #expect(keys(props + ["groups", "additionalProperties"]) == Set(GroupConfig.keys))
        #expect(keys(props + ["agents", "additionalProperties"]) == Set(AgentConfig.keys))
        #expect(keys(props + ["plugins"]) == Set(PluginsConfig.keys))
        #expect(keys(props + ["plugins", "properties", "file"]) == Set(ManifestKeys.known("plugins.file")))
        #expect(keys(props + ["plugins", "properties", "memory"]) == Set(ManifestKeys.known("plugins.memory")))
        #expect(keys(props + ["plugins", "properties", "export"]) == Set(ManifestKeys.known("plugins.export")))
        #expect(keys(props + ["plugins", "properties", "mcp", "properties", "servers", "additionalProperties"]) == Set(MCPServerConfig.keys))
    }

    @Test func theManifestsPluginKeysAreTheBuiltInPlugins() {
        #expect(Set(PluginsConfig.keys) == Set(PluginCatalog.pluginNames))
    }
}
