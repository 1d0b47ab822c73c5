import Base
import Crypto
import Foundation
import Host
import Hummingbird
import Plugins
import Registry

extension HTTPAPI {
    /// `GET /v1/skills`, `GET /v1/skills/{name}`, `GET /v1/skills/{name}/files/{path}`: only what
    /// the key's role may see, at the synced revision, with `ETag` and `If-None-Match`.
    func addSkillRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("skills") { request, context -> Response in
            let who = try context.who()
            let query = request.uri.queryParameters
            let text = query.get("q").map { String($0) }.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            let source = query.get("source").map { String($0) }
            var limit = 50
            if let raw = query.get("limit") {
                guard let n = Int(raw), (1...200).contains(n) else { throw APIError.badRequest("limit must be a whole number from 1 to 200, found '\(raw)'") }
                limit = n
            }
            var offset = 0
            if let raw = query.get("cursor"), !raw.isEmpty {
                guard let n = MCPProtocol.offset(fromCursor: String(raw)) else { throw APIError.badRequest("cursor is not one this server issued") }
                offset = n
            }
            let stamp = self.answers.current
            let key = [who.snapshot.revision, who.caller.role ?? "", text ?? "", source ?? "", "\(limit)", "\(offset)"].joined(separator: "\u{1f}")
            if let cached = self.answers.lookup(key, stamp: stamp) { return Self.answer(request, cached) }
            let permissions = who.snapshot.tools.router.permissions(for: who.caller)
            var visible: [SkillRecord] = []
            var next: Int?
            var position = offset
            // Read a little more than a page; more only when the role hides some of what was read.
            let batchSize = limit + 1
            scan: while true {
                var batch = SkillQuery(text: text, source: source, limit: batchSize, offset: position)
                batch.withoutBody = true
                let hits: [SkillHit]
                do throws(RegistryError) { hits = try self.registry.skills(batch) } catch { throw APIError.internalError("the registry could not list skills (\(error.code.rawValue))") }
                for hit in hits {
                    if permissions.canSeeSkill(name: hit.skill.name, source: hit.skill.source) {
                        if visible.count == limit { next = position; break scan }
                        visible.append(hit.skill)
                    }
                    position += 1
                }
                if hits.count < batchSize { break }
            }
            var body: [String: JSONValue] = ["skills": .array(visible.map { Self.skillJSON($0) })]
            if let next { body["next_cursor"] = .string(MCPProtocol.cursor(offset: next)) }
            // The ETag is the answer's own digest: right whatever changed (a sync, a reload, the role).
            let json = JSONValue.object(body).jsonText + "\n"
            let answer = AnswerCache.Answer(text: json, etag: Self.etag([json]))
            self.answers.store(key, answer, stamp: stamp)
            return Self.answer(request, answer)
        }
        v1.get("skills/:name") { request, context -> Response in
            let who = try context.who()
            let skill = try self.visibleSkill(try context.pathParameter("name"), who)
            let etag = Self.etag([skill.digest, String(skill.id), skill.revision])
            if Self.matches(request, etag) { return Self.notModified(etag) }
            let files: [SkillFileRecord]
            do throws(RegistryError) { files = try self.registry.fileListings(ofSkills: [skill.id])[skill.id] ?? [] } catch {
                throw APIError.internalError("the registry could not list the files of skill '\(skill.name)' (\(error.code.rawValue))")
            }
            var json = Self.skillJSON(skill)
            if case .object(var o) = json {
                o["instructions"] = .string(skill.body)
                o["files"] = .array(files.map { file in
                    var f: [String: JSONValue] = ["path": .string(file.path), "kind": .string(file.kind.rawValue), "size": .int(Int(file.size)),
                                                  "binary": .bool(file.isBinary)]
                    if let target = file.linkTarget { f["link_target"] = .string(target) }
                    return .object(f)
                })
                json = .object(o)
            }
            return Self.withETag(HTTPFront.json(.ok, json), etag)
        }
        v1.get("skills/:name/files/**") { request, context -> Response in
            let who = try context.who()
            let skill = try self.visibleSkill(try context.pathParameter("name"), who)
            let segments = context.parameters.getCatchAll().map { String($0).removingPercentEncoding ?? String($0) }
            let path = segments.joined(separator: "/")
            guard !path.isEmpty else { throw APIError.badRequest("name a file: /v1/skills/\(skill.name)/files/PATH") }
            let files: [SkillFileRecord]
            do throws(RegistryError) { files = try self.registry.files(ofSkill: skill.id) } catch {
                throw APIError.internalError("the registry could not read skill '\(skill.name)' (\(error.code.rawValue))")
            }
            guard let file = files.first(where: { $0.path == path }) else { throw APIError.notFound("skill '\(skill.name)' has no file '\(path)'") }
            guard file.kind == .file else { throw APIError.notFound("'\(path)' in skill '\(skill.name)' is a \(file.kind.rawValue), not a file") }
            guard let content = file.content else {
                throw APIError.notFound("'\(path)' in skill '\(skill.name)' is \(file.isBinary ? "binary" : "too large"); the registry keeps only its listing")
            }
            let etag = Self.etag([skill.digest, path, String(content.utf8.count)])
            if Self.matches(request, etag) { return Self.notModified(etag) }
            // A skill's files are untrusted: a browser must never run them on this origin. Types a
            // browser renders actively (HTML, SVG, XML, scripts) go out as plain text; every file
            // carries nosniff and a sandboxing CSP, and opens as a download.
            var type = skillFileMIMEType(path, binary: false)
            if Self.activeTypes.contains(type) || PathText.pathExtension(path).lowercased().hasPrefix("svg") || PathText.pathExtension(path).lowercased().hasPrefix("xht") { type = "text/plain" }
            let name = PathText.lastComponent(path).filter { $0.isLetter || $0.isNumber || "._-".contains($0) }
            return Response(status: .ok, headers: [
                .contentType: "\(type); charset=utf-8", .eTag: etag, .xContentTypeOptions: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; sandbox", .contentDisposition: "attachment; filename=\"\(name.isEmpty ? "file" : name)\"",
            ], body: ResponseBody(byteBuffer: ByteBuffer(string: content)))
        }
    }

    /// MIME types a browser would render or run: served as `text/plain` instead.
    static let activeTypes: Set<String> = ["text/html", "application/xml", "text/javascript", "image/svg+xml", "application/xhtml+xml", "text/xml"]

    func visibleSkill(_ name: String, _ who: APIIdentity) throws -> SkillRecord {
        let permissions = who.snapshot.tools.router.permissions(for: who.caller)
        let copies: [SkillRecord]
        do throws(RegistryError) { copies = try registry.skills(named: name) } catch { throw APIError.internalError("the registry could not look up skill '\(name)' (\(error.code.rawValue))") }
        guard let skill = copies.first(where: { permissions.canSeeSkill(name: $0.name, source: $0.source) }) else {
            throw APIError.notFound("no skill '\(TraceRedaction.name(name))'")
        }
        return skill
    }

    static func skillJSON(_ skill: SkillRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(skill.name), "source": .string(skill.source), "description": .string(skill.description),
            "path": .string(skill.path), "revision": .string(skill.revision), "strict": .bool(skill.strict),
        ]
        if let license = skill.license { o["license"] = .string(license) }
        if let compatibility = skill.compatibility { o["compatibility"] = .string(compatibility) }
        if let tools = skill.allowedTools { o["allowed_tools"] = .string(tools) }
        if let metadata = skill.metadata.flatMap({ JSONValue.parse($0) }) { o["metadata"] = metadata }
        return .object(o)
    }

    /// A JSON answer with its ETag, or 304 when the client holds it.
    static func answer(_ request: Request, _ answer: AnswerCache.Answer) -> Response {
        if matches(request, answer.etag) { return notModified(answer.etag) }
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: answer.etag],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.text)))
    }

    static func etag(_ parts: [String]) -> String {
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{1f}").utf8))
        return "\"" + digest.prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }

    static func matches(_ request: Request, _ etag: String) -> Bool {
        guard let header = request.headers[.ifNoneMatch] else { return false }
        return header.split(separator: ",").contains { tag in
            let t = tag.trimmingCharacters(in: .whitespaces)
            return t == "*" || t == etag || t == "W/" + etag
        }
    }

    static func notModified(_ etag: String) -> Response {
        Response(status: .notModified, headers: [.eTag: etag])
    }

    static func withETag(_ response: Response, _ etag: String) -> Response {
        var response = response
        response.headers[.eTag] = etag
        return response
    }

}
