import Foundation
import Logging
import Plugins
import Testing
@testable import Host

/// `check` reports what a sync or a read would later fail on, each at its line and column.
@Suite struct ManifestChecksTests {
    func problems(_ text: String, files: [String] = [], environment: [String: String] = [:]) throws -> [String] {
        try withTemporaryDirectory { dir in
            for file in files { try write("x", to: file, in: dir) }
            try write(text, to: "registry.yaml", in: dir)
            do throws(HostError) {
                let manifest = try ManifestLoader.load(path: dir + "/registry.yaml", environment: environment)
                return manifest.warnings.map { "\($0.location.line):\($0.location.column): warning: \($0.message)" }
            } catch {
                return error.diagnostics.isEmpty ? [error.message] : error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.severity == .warning ? "warning: " : "")\($0.message)" }
            }
        }
    }

    @Test func gitSettingsASyncWouldStallOnAreReportedWithTheirPositions() throws {
        let found = try problems("""
            version: 1
            sources:
              - { name: a, git: "" }
              - { name: b, git: "ftp://example.com/x.git" }
              - { name: c, git: "https://exa mple.com/x.git" }
              - { name: d, git: "https://example.com/x.git", ref: { semver: "^^1..2" } }
              - { name: e, git: "https://example.com/x.git", token_file: ./missing-token }
              - { name: f, git: "https://example.com/x.git", ssh_key: ./missing-key, ca_file: ./missing-ca.pem }
              - { name: g, git: "https://example.com/x.git", token_env: SURELY_NOT_SET_VARIABLE }
              - { name: h, git: "https://example.com/x.git", token_file: ./token, ca_file: ./ca.pem }
            """, files: ["token", "ca.pem"])
        #expect(found.contains { $0.hasPrefix("3:") && $0.contains("sources.a.git is empty") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("4:") && $0.contains("unsupported scheme 'ftp'") })
        #expect(found.contains { $0.hasPrefix("5:") && $0.contains("spaces") })
        #expect(found.contains { $0.hasPrefix("6:") && $0.contains("semver") })
        #expect(found.contains { $0.hasPrefix("7:") && $0.contains("token_file") && $0.contains("does not exist") })
        #expect(found.filter { $0.hasPrefix("8:") }.count == 2)
        #expect(found.contains { $0.hasPrefix("9:") && $0.contains("warning") && $0.contains("SURELY_NOT_SET_VARIABLE") })
        #expect(!found.contains { $0.hasPrefix("10:") })
    }

    @Test func messagesAboutAManifestNeverShowItsSecrets() throws {
        let found = try problems("""
            version: 1
            sources:
              - { name: a, git: "//user:s3cretA@127.0.0.1/x.git" }
              - { name: b, git: "ftp://user:s3cretB@example.com/x.git?access_token=s3cretC" }
              - { name: c, path: ./skills, tokn: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }
            """)
        #expect(found.count >= 3, "\(found)")
        #expect(!found.joined().contains("s3cret") && !found.joined().contains("ghp_abc"), "\(found)")
    }

    @Test func durationsAndRootsPastAnyUseAreRefused() throws {
        let found = try problems("""
            version: 1
            sync:
              interval: 99999999999999999999d
            host:
              database: "./"
            plugins:
              file: { roots: ['', ./nowhere, ./there] }
            """, files: ["there/.keep"])
        #expect(found.contains { $0.hasPrefix("3:13") && $0.contains("365d") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("5:") && $0.contains("host.database must name a file") })
        #expect(found.contains { $0.contains("a root must name a folder") })
        #expect(found.contains { $0.contains("nowhere does not exist") })
        #expect(!found.contains { $0.contains("there") })
    }

    @Test func aPostgreSQLDatabaseURLIsCheckedAtItsLineAndItsPasswordIsNeverRepeated() throws {
        let bad = try problems("""
            version: 1
            host:
              database: "postgres://app:${PGPASS}@db.internal:70000/agenthub"
            """, environment: ["PGPASS": "hunter2-secret"])
        #expect(bad.contains { $0.hasPrefix("3:") && $0.contains("port must be 1-65535") }, "\(bad)")
        #expect(!bad.joined().contains("hunter2"), "\(bad)")
        let good = try problems("""
            version: 1
            host:
              database: "postgresql://app:${PGPASS}@db.internal:5432/agenthub?sslmode=verify-full"
            """, environment: ["PGPASS": "hunter2-secret"])
        #expect(good.isEmpty, "\(good)")
    }

    @Test func theSynchronousOpenerRefusesAPostgreSQLURLAndCreatesNoFile() throws {
        try withTemporaryDirectory { dir in
            try write("version: 1\nhost: { database: \"postgres://app:pw-123@127.0.0.1:5432/agenthub\" }\n", to: "registry.yaml", in: dir)
            do throws(HostError) {
                _ = try HostContext.open(configPath: dir + "/registry.yaml", logger: Logger(label: "test"))
                Issue.record("a host opened a PostgreSQL registry")
            } catch {
                #expect(error.message.contains("PostgreSQL database (postgres://app@127.0.0.1:5432/agenthub)"), "\(error.message)")
                #expect(!error.message.contains("pw-123"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["registry.yaml"])
        }
    }

    @Test func aFileRootMayAllowHardLinksForItselfOnly() throws {
        let manifest = try ManifestLoader.parse("""
            version: 1
            plugins:
              file: { roots: [./docs, { path: ./shared, allow_hard_links: true }] }
            """)
        #expect(manifest.plugins.file?.roots == ["./docs", "./shared"])
        #expect(manifest.plugins.file?.hardLinkRoots == ["./shared"])
        #expect(try problems("version: 1\nplugins:\n  file: { roots: [{ allow_hard_links: true }] }\n").contains { $0.contains("path") })
    }

    @Test func aDuplicateKeyIsOneProblemAmongTheOthers() throws {
        let found = try problems("""
            version: 1
            host: { database: a.db }
            host: { cache: c }
            sync: { interval: soon }
            roles:
              r: { allow: [x], allow: [y], colour: red }
            """)
        #expect(found.contains { $0.hasPrefix("3:1") && $0.contains("duplicate key 'host'") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("4:") && $0.contains("soon") })
        #expect(found.contains { $0.hasPrefix("6:") && $0.contains("duplicate key 'allow'") })
        #expect(found.contains { $0.hasPrefix("6:") && $0.contains("colour") })
    }

    @Test func aManifestThatExpandsThroughAliasesOrIsHugeIsRefusedQuickly() throws {
        var lines = ["version: 1", "x0: &x0 [a, a, a, a, a, a, a, a, a, a]"]
        for i in 1..<9 { lines.append("x\(i): &x\(i) [" + Array(repeating: "*x\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let started = ContinuousClock.now
        let found = try problems(lines.joined(separator: "\n"))
        #expect(found.contains { $0.contains("anchors and aliases") }, "\(found)")
        #expect(ContinuousClock.now - started < .seconds(10))
        let huge = "version: 1\n" + String(repeating: "# padding\n", count: 120_000)
        #expect(try problems(huge).contains { $0.contains("over the limit") })
    }

    @Test func explainTreatsPermissionsAsExactNamesOnly() throws {
        try withTemporaryDirectory { dir in
            let (router, _) = try probeRouter(dir, manifest: """
                version: 1
                policy: { default: allow, rules: [{ allow: ["memory_*", "export_*"] }] }
                roles: { r: {}, exact: { allow: [memory_write_global] } }
                """)
            #expect(router.verdict(for: "memory_write_global", caller: ToolCaller(agent: "a", role: "r")).decision == .deny)
            #expect(router.verdict(for: "export_trace_all", caller: ToolCaller(agent: "a", role: "r")).decision == .deny)
            #expect(router.verdict(for: "memory_write_global", caller: ToolCaller(agent: "a", role: "exact")).decision == .allow)
        }
    }

    @Test func aBridgedServersSettingsAreCheckedAtTheirPositions() throws {
        let found = try problems("""
            version: 1
            plugins:
              mcp:
                servers:
                  a: { command: python3, cwd: ./missing-folder }
                  b: { command: python3, cwd: ./a-file }
                  c: { command: python3, pin: sometimes }
                  d: { command: python3, start_timeout: soon }
                  eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee: { command: python3 }
            """, files: ["a-file"])
        #expect(found.contains { $0.hasPrefix("5:") && $0.contains("plugins.mcp.servers.a.cwd") && $0.contains("does not exist") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("6:") && $0.contains("is not a folder") })
        #expect(found.contains { $0.hasPrefix("7:") && $0.contains("pin") })
        #expect(found.contains { $0.hasPrefix("8:") && $0.contains("start_timeout") })
        #expect(found.contains { $0.hasPrefix("9:") && $0.contains("would exceed 64") })
    }
}
