import ArgumentParser
import Foundation
import Host
import Core

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the manifest, then read every local source's skills (nothing is written).",
        discussion: "Exit 1 when the manifest has any problem or a local source cannot be read."
    )

    @OptionGroup var options: GlobalOptions

    struct SourceCheck: Encodable {
        var source: String
        var kind: String
        var skills = 0
        var loadable = 0
        var strict = 0
        var problems: [String] = []
        var warnings: [String] = []
    }

    func run() throws {
        let manifest: Manifest
        do { manifest = try ManifestLoader.load(path: options.config) } catch {
            if options.json { Output.json(["errors": error.diagnostics.map(\.description)]) }
            Output.stderr(error.diagnostics.isEmpty ? "error: \(error.message)" : error.description)
            throw ExitCode(1)
        }
        for warning in manifest.warnings { Output.stderr(warning.description) }
        // Bridged servers whose command cannot start: errors at the command's line.
        let commands = BridgedCommandCheck.problems(in: manifest)
        if !commands.isEmpty {
            if options.json { Output.json(["errors": commands.map(\.description)]) }
            for problem in commands { Output.stderr(problem.description) }
            throw ExitCode(1)
        }
        var failed = false
        var checks: [SourceCheck] = []
        for source in manifest.sources {
            var check = SourceCheck(source: source.name, kind: "local")
            guard case .path(let path) = source.location else {
                if case .mcp(let server) = source.location {
                    check.kind = "mcp"
                    check.warnings.append("skills of bridged server '\(server)': checked when it syncs")
                } else {
                    check.kind = "git"
                    check.warnings.append("git source: checked when it syncs")
                }
                checks.append(check)
                continue
            }
            do {
                let snapshot = try SkillFolders.snapshot(root: manifest.resolve(path), displayName: path, options: SourceSyncer.discoveryOptions(for: source))
                check.skills = snapshot.skills.count
                check.loadable = snapshot.skills.filter(\.parsed.loadable).count
                check.strict = snapshot.skills.filter(\.parsed.strict).count
                check.warnings = snapshot.warnings.filter { $0 != snapshot.incomplete }
                if let incomplete = snapshot.incomplete {
                    check.problems.append(incomplete)
                    failed = true
                }
                for skill in snapshot.skills {
                    let at = "\(path)/\(skill.path)"
                    check.problems += skill.parsed.loadErrors.map { "\(at): \($0)" }
                    check.warnings += skill.parsed.warnings.map { "\(at): \($0)" }
                }
            } catch {
                check.problems.append(error.message)
                failed = true
            }
            checks.append(check)
        }
        if options.json {
            Output.json(["manifest": "ok", "sources": AnyEncodable(checks)] as [String: AnyEncodable])
        } else {
            print("\(manifest.file): ok (\(manifest.sources.count) sources, \(manifest.roles.count) roles, \(manifest.groups.count) groups, \(manifest.agents.count) agents)")
            Output.table(["SOURCE", "KIND", "SKILLS", "LOADABLE", "STRICT"], checks.map {
                [$0.source, $0.kind, "\($0.skills)", "\($0.loadable)", "\($0.strict)"]
            })
            for check in checks {
                for problem in check.problems { print("error: \(check.source): \(problem)") }
                for warning in check.warnings { print("warning: \(check.source): \(warning)") }
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// Lets a heterogeneous dictionary be encoded.
struct AnyEncodable: Encodable, ExpressibleByStringLiteral {
    let encode: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encode = value.encode }
    init(stringLiteral value: String) { encode = value.encode }
    func encode(to encoder: Encoder) throws { try encode(encoder) }
}
