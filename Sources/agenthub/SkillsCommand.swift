import Base
import Core
import ArgumentParser
import Foundation
import Host

struct SkillsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skills",
        abstract: "Validate skill folders on disk, and list, search or show skills in the registry.",
        subcommands: [ValidateSkills.self, ListSkills.self, SearchSkills.self, ShowSkill.self]
    )
}

/// The JSON shape of `skills validate`.
struct SkillVerdict: Encodable {
    var path: String
    var name: String
    var loadable: Bool
    var strict: Bool
    /// Why the skill cannot be loaded (empty when it is loadable).
    var errors: [String]
    /// Everything else worth fixing, strict violations included.
    var warnings: [String]
    /// The reference validator's messages (`agentskills validate`), exactly.
    var strictErrors: [String]
}

struct ValidateSkills: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Give the loadable and strict verdicts for skill directories on disk.",
        discussion: "Exit 1 when any skill is not loadable (with --strict: not strict)."
    )

    @Argument(help: "Skill directories (or their SKILL.md files).")
    var paths: [String]

    @Flag(name: .long, help: "Fail unless every skill passes the strict (skills-ref) rules.")
    var strict = false

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        var verdicts: [SkillVerdict] = []
        for path in paths {
            do {
                let skill = try SkillFolders.inspect(path: path)
                let p = skill.parsed
                verdicts.append(SkillVerdict(path: path, name: p.name, loadable: p.loadable, strict: p.strict,
                                             errors: p.loadErrors, warnings: p.warnings, strictErrors: p.strictErrors))
            } catch {
                verdicts.append(SkillVerdict(path: path, name: PathText.lastComponent(path), loadable: false, strict: false,
                                             errors: [error.message], warnings: [], strictErrors: [error.message]))
            }
        }
        if json {
            Output.json(verdicts)
        } else {
            for v in verdicts {
                let verdict = !v.loadable ? "not loadable" : (v.strict ? "ok" : "loadable, not strict")
                print("\(v.path): \(verdict)")
                for e in v.errors { print("  error: \(e)") }
                for w in v.warnings { print("  warning: \(w)") }
            }
        }
        if verdicts.contains(where: { !$0.loadable || (strict && !$0.strict) }) { throw ExitCode(1) }
    }
}

struct ListSkills: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the skills the registry serves.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Only this source's skills.") var source: String?
    @Flag(help: "Also list shadowed and unloadable skills.") var all = false
    @Option(help: "Skills per page.") var limit = 100
    @Option(help: "Skills to skip.") var offset = 0

    func run() async throws {
        let context = try await options.context(readOnly: true)
        let request = SkillSearch(source: source, limit: limit, offset: offset, copies: all ? .every(admits: { _ in true }) : .served)
        let skills = try await SkillRows.page(context, request).skills
        if options.json { Output.json(skills.map(\.summaryJSON)); return }
        Output.table(["NAME", "SOURCE", "PATH", "VERDICT", "DESCRIPTION"], skills.map { SkillRows.row($0, description: 60) })
    }
}

struct SearchSkills: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Full-text search (name over description over body).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Words to search for.") var query: String
    @Option(help: "Only this source's skills.") var source: String?
    @Option(help: "Results per page.") var limit = 20
    @Option(help: "Results to skip.") var offset = 0

    func run() async throws {
        let context = try await options.context(readOnly: true)
        let hits = try await SkillRows.page(context, SkillSearch(text: query, source: source, limit: limit, offset: offset)).hits
        if options.json {
            Output.json(hits.map { hit -> JSONValue in
                guard case .object(var o) = hit.skill.summaryJSON else { return .null }
                o["rank"] = .string(String(format: "%.4f", hit.rank))
                return .object(o)
            })
            return
        }
        if hits.isEmpty { Output.stderr("no skill matches '\(query)'"); throw ExitCode(1) }
        Output.table(["NAME", "SOURCE", "PATH", "VERDICT", "DESCRIPTION"], hits.map { SkillRows.row($0.skill, description: 60) })
    }
}

struct ShowSkill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one skill: fields, verdicts, files and body.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The skill's name.") var name: String
    @Option(help: "Take the skill from this source, even if another source's skill wins the name.") var source: String?

    func run() async throws {
        let catalog = try await options.context(readOnly: true).catalog, everyone = EverySkillViewer()
        // The served copy; else (as `skills list --all` shows them) a shadowed or unloadable one.
        var found = try? await catalog.skill(named: name, source: source, as: everyone)
        if found == nil { found = try await catalog.copies(named: name, as: everyone).first { source == nil || $0.source == source } }
        guard let skill = found else {
            Output.stderr("no skill named '\(name)'\(source.map { " in source \($0)" } ?? "")")
            throw ExitCode(1)
        }
        let files = try await catalog.files(of: skill)
        if options.json {
            Output.json(["skill": AnyEncodable(skill), "files": AnyEncodable(files)])
            return
        }
        print("name:          \(skill.name)")
        print("source:        \(skill.source) \(skill.path.isEmpty ? "." : skill.path)/\(skill.fileName)")
        print("revision:      \(Output.short(skill.revision))  digest \(skill.digest.prefix(12))")
        print("verdict:       \(SkillRows.verdict(skill))")
        print("description:   \(skill.description)")
        if let v = skill.license { print("license:       \(v)") }
        if let v = skill.compatibility { print("compatibility: \(v)") }
        if let v = skill.allowedTools { print("allowed-tools: \(v)") }
        if let v = skill.metadata { print("metadata:      \(v)") }
        if let v = skill.extraFields { print("extra fields:  \(v) (not in the spec)") }
        if let winner = skill.shadowedBy, let w = try? await catalog.copy(id: winner, as: everyone) {
            print("shadowed by:   \(w.source)/\(w.path)")
        }
        print("first seen:    \(Output.date(skill.firstSeenAt))   updated: \(Output.date(skill.updatedAt))")
        for e in skill.loadErrorList { print("error:   \(e)") }
        for w in skill.warningList { print("warning: \(w)") }
        print("files:")
        for f in files {
            let what = f.kind == .symlink ? "-> \(f.linkTarget ?? "?")" : (f.isBinary ? "binary" : "text")
            print("  \(f.path)  \(f.size) bytes  \(what)\(f.note.map { "  (\($0))" } ?? "")")
        }
        print("")
        print(skill.body)
    }
}

enum SkillRows {
    /// A page from the catalog as the operator sees it (no role: every skill).
    static func page(_ context: HostContext, _ request: SkillSearch) async throws -> SkillPage {
        do { return try await context.catalog.search(request, as: EverySkillViewer()) } catch {
            Output.stderr(error.message)
            throw ExitCode(1)
        }
    }

    static func verdict(_ s: SkillRecord) -> String {
        if !s.loadable { return "not loadable" }
        if s.shadowedBy != nil { return "shadowed" }
        return s.strict ? "strict" : "loadable"
    }

    static func row(_ s: SkillRecord, description width: Int) -> [String] {
        [s.name, s.source, s.path.isEmpty ? "." : s.path, verdict(s), Output.clip(s.description, width)]
    }
}
