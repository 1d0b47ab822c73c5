import Base
import Core
import Foundation
import Host
import Hummingbird
import Plugins

extension WebConsole {
    /// The verdict filter of the skills page.
    /// `served` (the default) shows what agents of the role are served, as every other front does;
    /// the others inspect every copy the role may see, shadowed and unloadable ones too.
    enum SkillVerdict: String, CaseIterable {
        case served, all, strict, loadable, unloadable
        var label: String {
            switch self {
            case .served: "Served to agents"
            case .all: "Every copy, any verdict"
            case .strict: "Passes both (strict)"
            case .loadable: "Loads, fails strict"
            case .unloadable: "Does not load"
            }
        }
        var copies: SkillSearch.Copies {
            switch self {
            case .served: .served
            case .all, .strict, .loadable, .unloadable: .every(admits: admits)
            }
        }
        func admits(_ s: SkillRecord) -> Bool {
            switch self {
            case .served, .all: true
            case .strict: s.loadable && s.strict
            case .loadable: s.loadable && !s.strict
            case .unloadable: !s.loadable
            }
        }
    }

    /// `GET /skills` (search with the registry's ranking, filters by source and verdict),
    /// `GET /skills/{name}` (one skill: its rendered SKILL.md, files, verdicts, source and revision) and
    /// `GET /skills/{name}/files/{path}` (a file as text). Only what the key's role may see.
    func addSkillPages(_ pages: RouterGroup<APIContext>) {
        pages.get("skills") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let params = request.uri.queryParameters
            let text = request.query("q")?.trimmingCharacters(in: .whitespaces) ?? ""
            let source = request.query("source").flatMap { $0.isEmpty ? nil : $0 }
            let verdict = SkillVerdict(rawValue: request.query("verdict") ?? "served") ?? .served
            let offset = max(0, min(Int(params.get("offset") ?? "") ?? 0, 100_000))
            let permissions = who.snapshot.tools.router.permissions(for: who.caller)
            let page: SkillPage
            do throws(CoreError) {
                page = try await self.api.catalog.search(SkillSearch(text: text, source: source, limit: 50, offset: offset, copies: verdict.copies),
                                                         as: permissions)
            } catch { throw ConsoleError(error) }
            let (visible, next) = (page.skills, page.next)
            var nextHref: String?
            if let next {
                nextHref = "/skills?q=\(ConsoleFormat.encode(text))&source=\(ConsoleFormat.encode(source ?? ""))&verdict=\(verdict.rawValue)&offset=\(next)"
            }
            let data: [String: Any] = [
                "q": text, "searched": !text.isEmpty, "count": visible.count,
                "sources": who.snapshot.manifest.sources.map { ["name": $0.name, "selected": $0.name == source] },
                "verdicts": SkillVerdict.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0 == verdict] },
                "skills": visible.map(Self.skillRow), "next": nextHref ?? "", "hasNext": nextHref != nil, "none": visible.isEmpty,
            ]
            return self.view.page("skills", title: "Skills", section: "/skills", data: data, who: viewer)
        }
        pages.get("skills/:name") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let skill = try await self.consoleSkill(request, context, who)
            let permissions = who.snapshot.tools.router.permissions(for: who.caller)
            let copies: [SkillRecord]
            do throws(CoreError) { copies = try await self.api.catalog.copies(named: skill.name, as: permissions) } catch { throw ConsoleError(error) }
            let files: [SkillFileRecord]
            do throws(CoreError) { files = try await self.api.catalog.listing(of: skill) } catch { throw ConsoleError(error) }
            let source = (try? await self.api.directory.source(named: skill.source))?.record
            // The copy that serves the name, linked only when the role may see it.
            var shadowing: SkillRecord?
            if let id = skill.shadowedBy { shadowing = try? await self.api.catalog.copy(id: id, as: permissions) }
            var data = Self.skillRow(skill)
            let body = await self.markdown.html(skill.body)
            data["html"] = body.html
            data["plainBody"] = !body.rendered
            data["hasBody"] = !skill.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            data["loadErrors"] = skill.loadErrorList
            data["strictErrors"] = skill.strictErrorList
            data["warnings"] = skill.warningList
            data["hasWarnings"] = !skill.warningList.isEmpty
            data["fileName"] = skill.fileName
            data["commit"] = source?.commit ?? "–"
            data["sourceKind"] = source?.kind.rawValue ?? "–"
            data["sourceLocation"] = source.map { Redaction.url($0.location) } ?? "–"
            data["updated"] = ConsoleFormat.time(skill.updatedAt)
            data["firstSeen"] = ConsoleFormat.time(skill.firstSeenAt)
            if let shadowing { data["shadowedByHref"] = Self.skillHref(shadowing); data["shadowedBySource"] = shadowing.source }
            for (label, value) in [("license", skill.license), ("compatibility", skill.compatibility), ("allowedTools", skill.allowedTools)] {
                if let value { data[label] = value }
            }
            if let metadata = skill.metadata { data["metadata"] = Self.pretty(metadata) }
            data["files"] = files.map { file -> [String: Any] in
                var row: [String: Any] = ["path": file.path, "kind": file.kind.rawValue, "size": Int(file.size), "binary": file.isBinary,
                                          "viewable": file.kind == .file && !file.isBinary]
                row["href"] = "/skills/\(ConsoleFormat.encode(skill.name.isEmpty ? "-" : skill.name))/files/"
                    + file.path.split(separator: "/").map { ConsoleFormat.encode(String($0)) }.joined(separator: "/") + "?id=\(skill.id)"
                if let target = file.linkTarget { row["target"] = target }
                if let note = file.note { row["note"] = note }
                return row
            }
            data["copies"] = copies.filter { $0.id != skill.id }.map(Self.skillRow)
            data["hasCopies"] = copies.contains { $0.id != skill.id }
            return self.view.page("skill", title: skill.name.isEmpty ? skill.path : skill.name, section: "/skills", data: data, who: viewer)
        }
        pages.get("skills/:name/files/**") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let skill = try await self.consoleSkill(request, context, who)
            let path = context.parameters.getCatchAll().map { String($0).removingPercentEncoding ?? String($0) }.joined(separator: "/")
            let files: [SkillFileRecord]
            do throws(CoreError) { files = try await self.api.catalog.listing(of: skill) } catch { throw ConsoleError(error) }
            guard let file = files.first(where: { $0.path == path }) else { throw ConsoleError.notFound("Skill '\(skill.name)' has no file '\(path)'.") }
            var data: [String: Any] = ["skill": skill.name, "skillHref": Self.skillHref(skill), "path": path, "size": Int(file.size), "kind": file.kind.rawValue]
            if file.kind == .file, !file.isBinary, let content = try? await self.api.catalog.text(of: path, in: skill) { data["content"] = content }
            else { data["missing"] = file.isBinary ? "This file is binary: the registry keeps only its listing." : file.kind == .file ? "This file is too large: the registry keeps only its listing." : "This is a \(file.kind.rawValue)\(file.linkTarget.map { " to \($0)" } ?? "")." }
            return self.view.page("file", title: path, section: "/skills", data: data, who: viewer)
        }
    }

    /// The skill a page names: the copy `?id=` picks (any verdict, if the role may see it), or the
    /// copy that serves the name (the catalog's rule).
    func consoleSkill(_ request: Request, _ context: APIContext, _ who: APIIdentity) async throws -> SkillRecord {
        let name = try context.pathParameter("name")
        let id = request.uri.queryParameters.get("id").flatMap { Int64($0) }
        let permissions = who.snapshot.tools.router.permissions(for: who.caller)
        let catalog = api.catalog
        let picked: SkillRecord
        do throws(CoreError) {
            if let id {
                picked = try await catalog.copy(id: id, as: permissions)
                guard picked.name == name || (name == "-" && picked.name.isEmpty) else { throw CoreError(.notFound, "") }
            } else {
                picked = try await catalog.skill(named: name, as: permissions)
            }
        } catch {
            if error.code != .notFound { throw ConsoleError(error) }
            throw ConsoleError.notFound(id == nil ? "No skill '\(TraceRedaction.name(name))' that your role may see."
                                                  : "No skill '\(TraceRedaction.name(name))' with that id that your role may see.")
        }
        return picked
    }

    static func skillHref(_ s: SkillRecord) -> String {
        "/skills/\(ConsoleFormat.encode(s.name.isEmpty ? "-" : s.name))?id=\(s.id)"
    }

    static func skillRow(_ s: SkillRecord) -> [String: Any] {
        [
            "id": Int(s.id), "name": s.name.isEmpty ? "(no name)" : s.name, "href": skillHref(s), "description": s.description,
            "source": s.source, "path": s.path, "revision": ConsoleFormat.short(s.revision), "loadable": s.loadable, "strict": s.strict,
            "shadowed": s.shadowedBy != nil,
            "verdict": !s.loadable ? "does not load" : s.strict ? "strict" : "loads",
            "verdictClass": !s.loadable ? "bad" : s.strict ? "good" : "warn",
        ]
    }
}
