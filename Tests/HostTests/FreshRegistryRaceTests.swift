import Foundation
import Testing
import TestSupport

/// Processes that open a fresh registry at the same moment (hosts started together, a host and an
/// `agenthub mcp` its client spawns): one migrates, the others wait and find nothing to do.
@Suite struct FreshRegistryRaceTests {
    @Test func fourProcessesOpeningAFreshRegistryAtOnceAllSucceed() async throws {
        for round in 0..<3 {
            try await withTemporaryDirectory { dir in
                try write("---\nname: one\ndescription: A skill.\n---\nBody.\n", to: "skills/one/SKILL.md", in: dir)
                try write("""
                    version: 1
                    host: { database: state/registry.db }
                    sources:
                      - { name: local, path: ./skills }
                    """, to: "registry.yaml", in: dir)
                let results = try await withThrowingTaskGroup(of: (status: Int32, stdout: String, stderr: String).self) { group in
                    for command in [["sync"], ["sync"], ["sources"], ["skills", "list"]] {
                        group.addTask { try await run(agenthubBinary(), command, in: dir) }
                    }
                    var all: [(status: Int32, stdout: String, stderr: String)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                for result in results {
                    #expect(result.status == 0, "round \(round): \(result.stderr)")
                    #expect(!result.stderr.contains("duplicate column") && !result.stderr.contains("already exists"), "\(result.stderr)")
                }
            }
        }
    }
}
