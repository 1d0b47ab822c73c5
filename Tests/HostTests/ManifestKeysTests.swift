import Base
import Foundation
import Testing
import TestSupport
@testable import Host

/// Each manifest key is defined once, in `ManifestKeys`: the decoder reads the settings through it,
/// and the committed schema and README table are what it generates.
@Suite struct ManifestKeysTests {
    /// `a.b.c: v` as nested YAML.
    static func yaml(_ path: String, _ value: String) -> String {
        let parts = path.split(separator: ".")
        var text = "version: 1\n"
        for (depth, part) in parts.enumerated() {
            text += String(repeating: "  ", count: depth) + part + ":" + (depth == parts.count - 1 ? " \(value)\n" : "\n")
        }
        return text
    }

    /// Every settings key bound to a field, with the section it belongs to.
    static let boundKeys: [ManifestKey] = ManifestKeys.sync.keys + ManifestKeys.router.keys + ManifestKeys.mcp.keys + ManifestKeys.http.keys
        + ManifestKeys.policy.keys + ManifestKeys.memory.keys + ManifestKeys.export.keys + ManifestKeys.bridge.keys

    @Test func theCommittedSchemaIsWhatTheKeyTableGenerates() throws {
        let committed = try String(contentsOfFile: packageRoot + "/registry.schema.json", encoding: .utf8)
        #expect(committed == ManifestSchema.documentText(), "registry.schema.json is stale: run `make generated`")
    }

    @Test func theREADMEsSettingsTableIsWhatTheKeyTableGenerates() throws {
        let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
        let regenerated = try #require(ManifestSchema.readme(readme), "the README lost its settings-table markers")
        #expect(readme == regenerated, "the README's settings table is stale: run `make generated`")
    }

    @Test func everyKeyIsDefinedOnceAndHangsUnderAMappingTheTableKnows() {
        let paths = ManifestKeys.all.map(\.path)
        #expect(Set(paths).count == paths.count, "duplicated: \(Dictionary(grouping: paths, by: { $0 }).filter { $1.count > 1 }.keys.sorted())")
        let containers = Set(paths) .union([""]).union(paths.compactMap { $0.hasSuffix("[]") ? $0 : nil })
        for key in ManifestKeys.all where !containers.contains(key.parent) && !key.parent.hasSuffix(".*") {
            Issue.record("\(key.path): its parent \(key.parent) is not in the table")
        }
        #expect(ManifestKeys.all.allSatisfy { !$0.doc.isEmpty })
    }

    @Test func everyBoundNumberOutsideItsRangeIsRefusedNamingItsKeyAndItsLine() throws {
        for key in Self.boundKeys {
            let outside: String
            switch key.type {
            case .integer(let r): outside = r.upperBound < Int.max / 2 ? String(r.upperBound + 1) : String(r.lowerBound - 1)
            case .number(let r): outside = String(r.upperBound + 1)
            default: continue
            }
            let text = Self.yaml(key.path, outside)
            do {
                _ = try ManifestLoader.parse(text)
                Issue.record("\(key.path): \(outside) was accepted")
            } catch {
                let problems = error.problems.joined(separator: "\n")
                #expect(problems.contains(key.path) && problems.contains("registry.yaml:\(key.path.split(separator: ".").count + 1):"), "\(key.path): \(problems)")
            }
        }
    }

    @Test func everyBoundKeyReadsIntoItsFieldAndADefaultComesFromTheStruct() throws {
        // Each key set to a value other than its default reads back as that value.
        for key in Self.boundKeys {
            let value: String
            switch key.type {
            case .integer(let r): value = String(key.defaultValue?.intValue == r.lowerBound ? r.lowerBound + 1 : r.lowerBound)
            case .number(let r): value = ManifestKeyType.number(key.defaultValue?.doubleValue == r.lowerBound ? r.upperBound : r.lowerBound)
            case .duration: value = key.defaultText == "7s" ? "8s" : "7s"
            case .boolean: value = key.defaultValue == .bool(true) ? "false" : "true"
            case .choice(let words): value = words.first { $0 != key.defaultText } ?? words[0]
            default: continue
            }
            let manifest = try ManifestLoader.parse(Self.yaml(key.path, value))
            let read = Self.value(of: key.path, in: manifest)
            #expect(read.map(SettingsSection<Manifest>.text) == value, "\(key.path): wrote \(value), read \(String(describing: read))")
        }
    }

    @Test func aReloadThatChangesARestartOnlyKeySaysItWaitsForARestart() throws {
        let defaults = try ManifestLoader.parse("version: 1\n")
        for key in ManifestKeys.all where key.restartOnly && key.path != "host.database" && key.path != "host.http" {
            let value: String
            switch key.type {
            case .integer(let r): value = String(key.defaultValue?.intValue == r.lowerBound ? r.lowerBound + 1 : r.lowerBound)
            case .number(let r): value = ManifestKeyType.number(key.defaultValue?.doubleValue == r.lowerBound ? r.upperBound : r.lowerBound)
            case .duration: value = "7s"
            default: continue
            }
            let changed = try ManifestLoader.parse(Self.yaml(key.path, value))
            #expect(RestartOnlySettings.changed(from: defaults, to: changed) == ["\(key.path) changed: it takes effect when the host restarts"], "\(key.path)")
        }
        let moved = try ManifestLoader.parse("version: 1\nhost: { http: 127.0.0.1:9999 }\n")
        #expect(RestartOnlySettings.changed(from: defaults, to: moved) == ["host.http changed: it takes effect when the host restarts"])
    }

    /// The value a bound key's section holds in `manifest`, as JSON.
    static func value(of path: String, in manifest: Manifest) -> JSONValue? {
        let name = String(path.split(separator: ".").last!)
        func find<Root>(_ section: SettingsSection<Root>, _ root: Root?) -> JSONValue? {
            guard path == "\(section.path).\(name)", let root else { return nil }
            return section.settings.first { $0.name == name }?.value(root)
        }
        return find(ManifestKeys.sync, manifest.sync) ?? find(ManifestKeys.router, manifest.router) ?? find(ManifestKeys.mcp, manifest.mcp)
            ?? find(ManifestKeys.http, manifest.http) ?? find(ManifestKeys.policy, manifest.policy)
            ?? find(ManifestKeys.memory, manifest.plugins.memory) ?? find(ManifestKeys.export, manifest.plugins.export)
            ?? find(ManifestKeys.bridge, manifest.plugins.mcp)
    }
}
