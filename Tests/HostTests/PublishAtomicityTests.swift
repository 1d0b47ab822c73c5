import Foundation
import Logging
import Testing
@testable import Host
import Registry

/// Publishing is one transaction: a sync killed with SIGKILL at any point leaves the old revision or
/// the new one, never a mix, and a database that passes `PRAGMA integrity_check`.
@Suite struct PublishAtomicityTests {
    static let skillCount = 400
    static let vanishing = 10

    /// Generation A has every skill; generation B drops the last few (so tombstones are exercised too).
    func writeGeneration(_ generation: String, in root: String) throws {
        try? FileManager.default.removeItem(atPath: root + "/skills")
        let count = generation == "A" ? Self.skillCount : Self.skillCount - Self.vanishing
        for i in 0..<count {
            let name = String(format: "skill-%04d", i)
            try write("---\nname: \(name)\ndescription: generation \(generation) of \(name).\n---\nBody of generation \(generation).\n",
                      to: "skills/\(name)/SKILL.md", in: root)
        }
    }

    func startSync(_ root: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agenthubBinary())
        process.arguments = ["sync", "--config", root + "/registry.yaml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The generation every live skill agrees on; records an issue on any mix.
    func checkConsistent(_ root: String) throws -> String {
        let registry = try RegistryDatabase(path: root + "/.agenthub/registry.db")
        #expect(try registry.integrityCheck() == "ok")
        let skills = try registry.skills(inSource: "local")
        let generations = Set(skills.map { $0.description.split(separator: " ")[1] })
        #expect(generations.count == 1, "a mix of generations: \(generations)")
        let generation = String(generations.first ?? "?")
        #expect(skills.count == (generation == "A" ? Self.skillCount : Self.skillCount - Self.vanishing))
        let source = try #require(try registry.source(named: "local"))
        #expect(Set(skills.map(\.revision)) == [source.revision ?? "-"], "skill revisions differ from the source's")
        #expect(try registry.skills(SkillQuery(text: "generation", source: "local", limit: 1000)).count == skills.count)
        return generation
    }

    @Test func aSyncKilledAtRandomPointsLeavesTheOldOrTheNewRevisionNeverAMix() throws {
        try withTemporaryDirectory { root in
            try write("version: 1\nsources:\n  - name: local\n    path: ./skills\n", to: "registry.yaml", in: root)
            try writeGeneration("A", in: root)
            let first = try startSync(root)
            first.waitUntilExit()
            #expect(first.terminationStatus == 0)
            #expect(try checkConsistent(root) == "A")
            // Time an uninterrupted re-sync that rewrites every skill: the window the kills are spread over.
            try writeGeneration("B", in: root)
            let started = Date()
            let timed = try startSync(root)
            timed.waitUntilExit()
            let fullSync = Date().timeIntervalSince(started)
            #expect(try checkConsistent(root) == "B")
            try writeGeneration("A", in: root)
            try startSync(root).waitUntilExit()
            #expect(try checkConsistent(root) == "A")

            var outcomes: [String: Int] = [:]
            var current = "A"
            for round in 0..<16 {
                let next = current == "A" ? "B" : "A"
                try writeGeneration(next, in: root)
                let process = try startSync(root)
                // Spread the kills over the whole run: start-up, discovery, the transaction, the end.
                let delay = Double.random(in: 0...(fullSync * 1.1))
                usleep(useconds_t(delay * 1_000_000))
                if !process.isRunning { outcomes["finished before the kill", default: 0] += 1 }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let seen = try checkConsistent(root)
                #expect(seen == current || seen == next, "round \(round)")
                outcomes[seen == next ? "new" : "old", default: 0] += 1
                current = seen
                if seen != next {
                    // The interrupted sync is simply redone: the next run publishes the new generation.
                    let redo = try startSync(root)
                    redo.waitUntilExit()
                    #expect(try checkConsistent(root) == next)
                    current = next
                }
            }
            print("sync killed 16 times (full sync \(String(format: "%.3f", fullSync)) s): \(outcomes)")
        }
    }
}
