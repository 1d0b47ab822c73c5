import Base
import Core
import Crypto
import Foundation
import Host
import Hummingbird
import Plugins

extension HTTPAPI {
    /// `GET /v1/skills`, `GET /v1/skills/{name}`, `GET /v1/skills/{name}/files/{path}`, and the Skills
    /// extension's entry and exact bytes, `GET /v1/skills/{source}/{name}` and
    /// `GET /v1/skills/{source}/{name}/files/{path}`: only what the key's role may see, at the synced
    /// revision, with `ETag` and `If-None-Match`.
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
            let page: SkillPage
            do throws(CoreError) {
                page = try await self.catalog.search(SkillSearch(text: text, source: source, limit: limit, offset: offset), as: permissions)
            } catch { throw APIError(error) }
            var body: [String: JSONValue] = ["skills": .array(page.skills.map(\.summaryJSON))]
            if let next = page.next { body["next_cursor"] = .string(MCPProtocol.cursor(offset: next)) }
            // The ETag is the answer's own digest: right whatever changed (a sync, a reload, the role).
            let json = JSONValue.object(body).jsonText + "\n"
            let answer = AnswerCache.Answer(text: json, etag: Self.etag([json]))
            self.answers.store(key, answer, stamp: stamp)
            return Self.answer(request, answer)
        }
        v1.get("skills/:name") { request, context -> Response in
            let who = try context.who()
            let skill = try await self.visibleSkill(request, context, who)
            let etag = Self.etag([skill.digest, String(skill.id), skill.revision])
            if Self.matches(request, etag) { return Self.notModified(etag) }
            let files: [SkillFileRecord]
            do throws(CoreError) { files = try await self.catalog.listing(of: skill) } catch { throw APIError(error) }
            var json = skill.summaryJSON
            if case .object(var o) = json {
                o["instructions"] = .string(skill.body)
                o["files"] = .array(files.map(\.listingJSON))
                json = .object(o)
            }
            return Self.withETag(HTTPFront.json(.ok, json), etag)
        }
        v1.get("skills/:name/files/**") { request, context -> Response in
            let who = try context.who()
            let skill = try await self.visibleSkill(request, context, who)
            let segments = context.parameters.getCatchAll().map { String($0).removingPercentEncoding ?? String($0) }
            let path = segments.joined(separator: "/")
            guard !path.isEmpty else { throw APIError.badRequest("name a file: /v1/skills/\(skill.name)/files/PATH") }
            let content: String
            do throws(CoreError) { content = try await self.catalog.text(of: path, in: skill) } catch { throw APIError(error) }
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

    /// The Skills extension's routes: the entry MCP's `skills/get` gives, and a file's exact bytes
    /// with its digest as a strong ETag.
    func addSkillEntryRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("skills/:name/:skill") { request, context -> Response in
            let who = try context.who()
            let skill = try await self.sourceSkill(context, who)
            let entry: SkillEntry
            do throws(CoreError) { entry = try await self.catalog.entry(of: skill) } catch { throw APIError(error) }
            let etag = Self.etag([skill.digest, String(skill.id), skill.revision, "entry"])
            if Self.matches(request, etag) { return Self.notModified(etag) }
            return Self.withETag(HTTPFront.json(.ok, MCPServer.entryJSON(entry)), etag)
        }
        v1.get("skills/:name/:skill/files/**") { request, context -> Response in
            let who = try context.who()
            let skill = try await self.sourceSkill(context, who)
            let path = context.parameters.getCatchAll().map { String($0).removingPercentEncoding ?? String($0) }.joined(separator: "/")
            guard !path.isEmpty else { throw APIError.badRequest("name a file: /v1/skills/\(skill.source)/\(skill.name)/files/PATH") }
            let file: SkillFileRecord, bytes: Data
            do throws(CoreError) { (file, bytes) = try await self.catalog.bytes(of: path, in: skill) } catch { throw APIError(error) }
            let digest = file.digest ?? "sha256:" + SHA256.hash(data: bytes).hex
            let etag = "\"\(digest)\""
            if Self.matches(request, etag) { return Self.notModified(etag) }
            var type = skillFileMIMEType(path, binary: file.isBinary)
            if Self.activeTypes.contains(type) || PathText.pathExtension(path).lowercased().hasPrefix("svg") || PathText.pathExtension(path).lowercased().hasPrefix("xht") { type = "text/plain" }
            let name = PathText.lastComponent(path).filter { $0.isLetter || $0.isNumber || "._-".contains($0) }
            return Response(status: .ok, headers: [
                .contentType: type.hasPrefix("text/") ? "\(type); charset=utf-8" : type, .eTag: etag, .xContentTypeOptions: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; sandbox", .contentDisposition: "attachment; filename=\"\(name.isEmpty ? "file" : name)\"",
            ], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// The skill `{source}/{name}` names, as the key's role may see it (a shadowed copy too).
    func sourceSkill(_ context: APIContext, _ who: APIIdentity) async throws -> SkillRecord {
        // The router names the first segment alike in every skills route: here it is the source.
        let source = try context.pathParameter("name"), name = try context.pathParameter("skill")
        do throws(CoreError) {
            return try await catalog.skill(named: name, source: source, as: who.snapshot.tools.router.permissions(for: who.caller))
        } catch {
            throw error.code == .notFound ? APIError.notFound("no skill '\(TraceRedaction.name(name))' in source '\(TraceRedaction.name(source))'") : APIError(error)
        }
    }

    /// MIME types a browser would render or run: served as `text/plain` instead.
    static let activeTypes: Set<String> = ["text/html", "application/xml", "text/javascript", "image/svg+xml", "application/xhtml+xml", "text/xml"]

    /// The skill a path names, as the key's role is served it (`?source=` picks that source's copy).
    func visibleSkill(_ request: Request, _ context: APIContext, _ who: APIIdentity) async throws -> SkillRecord {
        let name = try context.pathParameter("name")
        let source = request.uri.queryParameters.get("source").flatMap { $0.isEmpty ? nil : String($0) }
        do throws(CoreError) {
            return try await catalog.skill(named: name, source: source, as: who.snapshot.tools.router.permissions(for: who.caller))
        } catch {
            throw error.code == .notFound ? APIError.notFound("no skill '\(TraceRedaction.name(name))'") : APIError(error)
        }
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
