import Crypto
import Foundation
import Registry
import TestSupport
import Testing
@testable import Host

/// Sources that take the skills a bridged MCP server publishes through the Skills extension
/// (`sources: - {name, mcp: SERVER}`), against `Tests/Interop/skills_server.py`: a real stdio server
/// whose skills are folders, one of which lies about a digest and one of which is `"dynamic"`.
@Suite(.serialized) struct BridgedSkillsTests {
    static let skillsServer = packageRoot + "/Tests/Interop/skills_server.py"

    /// The server's folder: a good skill with a binary file, a nested one, one named like a local
    /// skill, one whose entry lies about its SKILL.md, one with dynamic resources.
    static func writeServerSkills(in dir: String) throws {
        try write("---\nname: good-one\ndescription: A good vendor skill about quarterly widgets.\nlicense: MIT\nmetadata:\n  version: \"2.0\"\n  tier: 3\n---\nGood body.\n",
                  to: "vendor/good-one/SKILL.md", in: dir)
        try write(Self.logo, to: "vendor/good-one/assets/logo.png", in: dir)
        try write("---\nname: refunds\ndescription: Refund requests.\n---\nRefunds.\n", to: "vendor/acme/refunds/SKILL.md", in: dir)
        try write("---\nname: shared\ndescription: The vendor's shared skill.\n---\nVendor body.\n", to: "vendor/shared/SKILL.md", in: dir)
        try write("---\nname: liar\ndescription: Its entry lies.\n---\nLies.\n", to: "vendor/liar/SKILL.md", in: dir)
        try write("---\nname: dyn\ndescription: Generated.\n---\nDynamic.\n", to: "vendor/dyn/SKILL.md", in: dir)
        try write("---\nname: shared\ndescription: The local shared skill.\n---\nLocal body.\n", to: "local/shared/SKILL.md", in: dir)
    }

    static let logo = Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01, 0xFF, 0xFE])

    static func manifest(_ dir: String, source: String = "  - { name: vendor, mcp: vendor }", interval: String = "1h") -> String {
        let python = testPython() ?? "python3"
        return """
            version: 1
            host: { database: registry.db, cache: cache }
            sync: { interval: \(interval) }
            sources:
            \(source)
              - { name: local, path: ./local }
            policy:
              default: deny
            roles:
              everyone: { skills: ["*"] }
            agents:
              reader: { role: everyone }
            plugins:
              skills: {}
              mcp:
                servers:
                  vendor:
                    command: \(python)
                    args: [\(skillsServer), \(dir)/vendor]
                    env: { LIE_ABOUT: liar, DYNAMIC: dyn, REQUESTS_LOG: \(dir)/requests.log }
                    start_timeout: 60s
            """
    }

    func reads(_ dir: String) -> Int {
        ((try? String(contentsOfFile: dir + "/requests.log", encoding: .utf8)) ?? "").split(separator: "\n").filter { $0 == "resources/read" }.count
    }

    @Test func aBridgedServersSkillsAreVerifiedPublishedAndServedWithoutShadowingALocalOne() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeServerSkills(in: dir)
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            let synced = try await run(agenthubBinary(), ["sync"], in: dir)
            #expect(synced.status == 0, "\(synced.stdout) \(synced.stderr)")
            #expect(synced.stdout.contains("vendor  published"), "\(synced.stdout)")
            // The lying entry and the dynamic one are refused with why; the others publish.
            #expect(synced.stdout.contains("skill://liar/SKILL.md: refused from bridged server 'vendor': SKILL.md: the server's bytes"), "\(synced.stdout)")
            #expect(synced.stdout.contains("skill://dyn/SKILL.md: refused from bridged server 'vendor': its resources are \"dynamic\""), "\(synced.stdout)")
            // The vendor's `shared` does not replace the local one, and says so.
            #expect(synced.stdout.contains("skill 'shared' at vendor/shared is shadowed by local/shared"), "\(synced.stdout)")

            let search = try await run(agenthubBinary(), ["skills", "search", "quarterly widgets", "--json"], in: dir)
            #expect(search.stdout.contains("\"good-one\"") && search.stdout.contains("\"vendor\""), "\(search.stdout)")
            let all = try await run(agenthubBinary(), ["skills", "list", "--all", "--json"], in: dir)
            let rows = (try? JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]]) ?? []
            let liar = rows.first { $0["name"] as? String == "liar" }
            #expect(liar?["loadable"] as? Bool == false, "\(all.stdout)")
            #expect((liar?["load_errors"] as? [String])?.first?.contains("do not match its entry") == true)

            // What a conforming client reads back is what the server published, byte for byte.
            let python = try #require(testPython())
            let conformance = try await run(python, [packageRoot + "/Tests/Interop/skills_conformance.py", "stdio", "auto", agenthubBinary(), dir,
                                                     "everyone", "--shadowed", "skill://vendor/shared/SKILL.md"], in: dir)
            let report = (try? JSONSerialization.jsonObject(with: Data(conformance.stdout.utf8)) as? [String: Any]) ?? [:]
            #expect(report["failures"] as? [String] == [], "\(conformance.stdout) \(conformance.stderr.suffix(2000))")
            #expect(report["listed"] as? [String] == ["skill://local/shared/SKILL.md", "skill://vendor/good-one/SKILL.md", "skill://vendor/refunds/SKILL.md"])

            // A second sync reads only what it must verify again (the refused entry), not the unchanged skills.
            let before = reads(dir)
            let again = try await run(agenthubBinary(), ["sync", "--source", "vendor"], in: dir)
            #expect(again.stdout.contains("vendor  unchanged"), "\(again.stdout)")
            #expect(reads(dir) - before == 1, "resources/read calls in the second sync: \(reads(dir) - before)")
        }
    }

    @Test func aServerThatSaysItsResourcesChangedIsSyncedAgainAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeServerSkills(in: dir)
            let api = try await APIHost.start(dir, manifest: Self.manifest(dir), agents: ["reader"])
            func entry(_ name: String) async -> HTTPAnswer? {
                for _ in 0..<600 {
                    let answer = await api.call("GET", "/v1/skills/vendor/\(name)", as: "reader")
                    if answer.status == 200 { return answer }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            // Synced when the server became ready, not an hour later.
            let good = try #require(await entry("good-one"))
            let resources = good.json["resources"] as? [[String: Any]] ?? []
            let logo = resources.first { ($0["uri"] as? String) == "skill://vendor/good-one/assets/logo.png" }
            #expect(logo?["digest"] as? String == "sha256:" + SHA256.hash(data: Self.logo).hex, "\(resources)")
            let bytes = await api.call("GET", "/v1/skills/vendor/good-one/files/assets/logo.png", as: "reader")
            #expect(bytes.status == 200 && bytes.headers["etag"] == "\"sha256:" + SHA256.hash(data: Self.logo).hex + "\"", "\(bytes.headers)")
            #expect((good.json["frontmatter"] as? [String: Any])?["license"] as? String == "MIT")
            // The first sync waited for the server to start instead of failing while it started.
            let sources = await api.call("GET", "/v1/sources", as: "reader").json["sources"] as? [[String: Any]] ?? []
            let vendor = sources.first { $0["name"] as? String == "vendor" }
            #expect(vendor?["kind"] as? String == "mcp" && vendor?["status"] as? String == "ready", "\(vendor ?? [:])")
            #expect(vendor?["consecutive_failures"] as? Int == 0 && !api.host.stderr.contains("sync failed"), "\(api.host.stderr.suffix(2000))")

            // A new skill on the server: it says list_changed, and the source syncs (its interval is an hour).
            try write("---\nname: fresh\ndescription: Published later.\n---\nFresh.\n", to: "vendor/fresh/SKILL.md", in: dir)
            let fresh = await entry("fresh")
            #expect(fresh?.status == 200, "\(api.host.stderr.suffix(3000))")
        }
    }

    @Test func sourcesNamingURIsTakeOnlyThoseAndSayWhichTheServerLacks() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeServerSkills(in: dir)
            let source = "  - { name: vendor, mcp: vendor, uris: [\"skill://good-one/SKILL.md\", \"skill://missing/SKILL.md\"] }"
            try write(Self.manifest(dir, source: source), to: "registry.yaml", in: dir)
            let synced = try await run(agenthubBinary(), ["sync", "--source", "vendor"], in: dir)
            #expect(synced.status == 0 && synced.stdout.contains("vendor  published"), "\(synced.stdout) \(synced.stderr)")
            #expect(synced.stdout.contains("does not serve skill://missing/SKILL.md"), "\(synced.stdout)")
            let list = try await run(agenthubBinary(), ["skills", "list", "--source", "vendor", "--json"], in: dir)
            let names = ((try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            #expect(names == ["good-one"], "\(list.stdout)")
        }
    }

    @Test func aSourceNamingAServerThatIsNotBridgedIsAManifestError() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeServerSkills(in: dir)
            let bad = Self.manifest(dir, source: "  - { name: vendor, mcp: vendr }\n  - { name: other, path: ./local, uris: [\"skill://x/SKILL.md\"] }")
            try write(bad, to: "registry.yaml", in: dir)
            let checked = try await run(agenthubBinary(), ["check"], in: dir)
            #expect(checked.status != 0)
            #expect(checked.stderr.contains("sources.vendor.mcp: 'vendr' is not a server in plugins.mcp.servers; did you mean 'vendor'?"), "\(checked.stderr)")
            #expect(checked.stderr.contains("sources.other.uris only applies to mcp sources"), "\(checked.stderr)")
        }
    }

    @Test func aServerThatIsDownFailsItsSourceAndKeepsWhatWasPublished() async throws {
        try await withTemporaryDirectory { dir in
            try Self.writeServerSkills(in: dir)
            try write(Self.manifest(dir), to: "registry.yaml", in: dir)
            #expect(try await run(agenthubBinary(), ["sync", "--source", "vendor"], in: dir).status == 0)
            // The server's folder is gone: it now fails at start.
            let broken = Self.manifest(dir).replacingOccurrences(of: Self.skillsServer, with: dir + "/no-such-server.py")
            try write(broken, to: "registry.yaml", in: dir)
            let failed = try await run(agenthubBinary(), ["sync", "--source", "vendor"], in: dir)
            #expect(failed.status == 1)
            #expect(failed.stdout.contains("bridged server 'vendor' is not running"), "\(failed.stdout)")
            let list = try await run(agenthubBinary(), ["skills", "list", "--source", "vendor", "--json"], in: dir)
            #expect(list.stdout.contains("\"good-one\""), "the last good revision stays served: \(list.stdout)")
        }
    }
}
