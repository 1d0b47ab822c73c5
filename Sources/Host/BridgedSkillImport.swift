import Base
import Crypto
import Foundation
import Plugins
import Registry

/// The bridged MCP servers a source may take skills from (the bridge, in a running host).
public protocol SkillServers: Sendable {
    /// What the running server declared in `initialize`; nil when it is not running.
    func capabilities(ofServer name: String) -> JSONValue?
    /// Why the server cannot be asked now, or nil when it can.
    func unavailableReason(ofServer name: String) -> String?
    /// One request to the running server.
    func request(server name: String, _ method: String, _ params: JSONValue?) async throws(BridgeError) -> JSONValue
    /// Returns once every server's first start has settled (ready, or given up on), or at `timeout`.
    func settle(timeout: Duration) async
}

extension MCPBridge: SkillServers {}

/// Takes the skills one bridged server publishes through the Skills extension
/// (`io.modelcontextprotocol/skills`) as a snapshot to publish, as a host of the extension must:
///
/// - it lists with `skills/list` (every page), or gets the URIs the manifest names with `skills/get`;
/// - an entry whose files did not change since the last sync (same URIs, digests and sizes) is not
///   read again; a changed one has every file read with `resources/read` and verified against its
///   entry's size and `sha256:` digest, and its SKILL.md frontmatter compared field by field with
///   the entry's;
/// - an entry that fails (a digest or size mismatch, a frontmatter that differs, `"dynamic"`
///   resources, over the extension's limits, a URI whose last segment is not the name) is refused:
///   stored not loadable with the reason, so it is never served, and warned about; the server's
///   other skills still publish;
/// - the skill's path in the source is its URI's skill path (`skill://acme/refunds/SKILL.md` is
///   `acme/refunds`), so the source name is the namespace: the host serves it as
///   `skill://SOURCE/refunds/SKILL.md`.
///
/// A server that is down, or a listing or read that fails, fails the whole sync: the last good
/// revision stays served.
struct BridgedSkillImport {
    let source: String
    let server: String
    let servers: any SkillServers
    /// The digests the registry holds for this source's skills, by path.
    let known: [String: String]
    let options: DiscoveryOptions
    static let extensionName = "io.modelcontextprotocol/skills"
    /// Bounds a server that pages forever.
    static let maxPages = 1_000

    struct Failure: Error {
        let message: String
    }

    func snapshot(uris: [String]) async throws(Failure) -> SkillSnapshot {
        // A host that just started syncs while its servers start: wait for the first start.
        if servers.capabilities(ofServer: server) == nil { await servers.settle(timeout: .seconds(60)) }
        guard let capabilities = servers.capabilities(ofServer: server) else {
            throw Failure(message: "bridged server '\(server)' is not running: " + (servers.unavailableReason(ofServer: server) ?? "unknown"))
        }
        guard capabilities["extensions"]?[Self.extensionName] != nil else {
            throw Failure(message: "bridged server '\(server)' does not declare the Skills extension (\(Self.extensionName)) in its capabilities")
        }
        var warnings: [String] = []
        let entries = uris.isEmpty ? try await listed() : try await named(uris, warnings: &warnings)
        var skills: [DiscoveredSkill] = []
        var seen: Set<String> = []
        for entry in entries {
            guard let uri = entry["uri"]?.stringValue, let skillPath = Self.skillPath(uri) else {
                warnings.append("\(server): an entry without the URI of a SKILL.md was skipped: \(entry.jsonText.utf8Prefix(200))")
                continue
            }
            guard seen.insert(skillPath).inserted else {
                warnings.append("\(server): \(uri) is listed twice; the first entry was taken")
                continue
            }
            let skill = try await take(entry, uri: uri, path: skillPath)
            if !skill.parsed.loadable, !skill.reused { warnings.append("source '\(source)': \(uri): \(skill.parsed.loadErrors.joined(separator: "; "))") }
            skills.append(skill)
        }
        var snapshot = SkillSnapshot(skills: skills, warnings: warnings)
        snapshot.revision = "\(server)@" + snapshot.revision.dropFirst("local:".count).prefix(16)
        return snapshot
    }

    /// Every entry of `skills/list`.
    func listed() async throws(Failure) -> [JSONValue] {
        var all: [JSONValue] = []
        var cursor: String?
        for _ in 0..<Self.maxPages {
            let page = try await ask("skills/list", cursor.map { ["cursor": .string($0)] } ?? [:])
            guard let skills = page["skills"]?.arrayValue else { throw Failure(message: "\(server) answered skills/list without a skills array") }
            all += skills
            guard let next = page["nextCursor"]?.stringValue, !next.isEmpty else { return all }
            cursor = next
        }
        throw Failure(message: "\(server) lists skills over more than \(Self.maxPages) pages")
    }

    /// The entries of the URIs the manifest names; one the server does not serve is warned about.
    func named(_ uris: [String], warnings: inout [String]) async throws(Failure) -> [JSONValue] {
        var entries: [JSONValue] = []
        for uri in uris {
            do {
                let answer = try await servers.request(server: server, "skills/get", ["uri": .string(uri)])
                guard let skill = answer["skill"] else { throw Failure(message: "\(server) answered skills/get \(uri) without a skill") }
                entries.append(skill)
            } catch let error as BridgeError where error.code == .remote {
                warnings.append("\(server) does not serve \(uri): \(error.message)")
            } catch let error as BridgeError {
                throw Failure(message: error.message)
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure(message: "\(server): \(error)")
            }
        }
        return entries
    }

    func ask(_ method: String, _ params: JSONValue) async throws(Failure) -> JSONValue {
        do { return try await servers.request(server: server, method, params) } catch { throw Failure(message: "\(method) on \(server): \(error.message)") }
    }

    /// The skill path of a SKILL.md URI (`skill://acme/refunds/SKILL.md` → `acme/refunds`), or nil.
    static func skillPath(_ uri: String) -> String? {
        guard let scheme = uri.range(of: "://"), uri.hasSuffix("/SKILL.md") else { return nil }
        let path = String(uri[scheme.upperBound...].dropLast("/SKILL.md".count))
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        return segments.map { String($0).removingPercentEncoding ?? String($0) }.joined(separator: "/")
    }

    /// One entry as a skill to publish: verified and parsed, reused when unchanged, or refused with why.
    func take(_ entry: JSONValue, uri: String, path: String) async throws(Failure) -> DiscoveredSkill {
        let name = String(path.split(separator: "/").last ?? "")
        let root = String(uri.dropLast("/SKILL.md".count))
        func refused(_ reason: String) -> DiscoveredSkill {
            // A refused entry never matches the digest its entry gives, so it is verified again at
            // every sync; refused again for the same reason, it is unchanged (nothing is rewritten).
            DiscoveredSkill(path: path, fileName: "SKILL.md", parsed: .unreadable(name, "refused from bridged server '\(server)': \(reason)"),
                            files: [], digest: "refused:" + SHA256.hash(data: Data("\(uri)\0\(reason)".utf8)).hex)
        }
        guard case .object(let frontmatter)? = entry["frontmatter"] else { return refused("the entry has no frontmatter object") }
        guard frontmatter["name"]?.stringValue == name else {
            return refused("the URI's last segment '\(name)' is not the frontmatter name '\(frontmatter["name"]?.stringValue ?? "none")'")
        }
        guard frontmatter["description"] != nil else { return refused("the frontmatter has no description") }
        let listed: [JSONValue]
        switch entry["resources"] {
        case .string("dynamic")?: return refused("its resources are \"dynamic\": AgentHub takes only skills whose files have digests")
        case .array(let items)?: listed = items
        default: return refused("the entry's resources are neither a list nor \"dynamic\"")
        }
        var resources: [(uri: String, path: String, digest: String, size: Int)] = []
        for item in listed {
            guard let fileURI = item["uri"]?.stringValue, let digest = item["digest"]?.stringValue, let size = item["size"]?.intValue else {
                return refused("a resource lacks uri, digest or size: \(item.jsonText.utf8Prefix(200))")
            }
            guard fileURI.hasPrefix(root + "/"), let relative = Self.relativePath(String(fileURI.dropFirst(root.count + 1))) else {
                return refused("\(fileURI) is not a file within the skill \(root)")
            }
            guard Self.isDigest(digest), size >= 0 else { return refused("\(fileURI): digest '\(digest.utf8Prefix(80))' or size \(size) is malformed") }
            guard !resources.contains(where: { $0.path == relative }) else { return refused("\(fileURI) is listed twice") }
            resources.append((fileURI, relative, digest, size))
        }
        guard resources.contains(where: { $0.path == "SKILL.md" }) else { return refused("its resources do not list its SKILL.md") }
        let total = resources.reduce(0) { $0 + $1.size }
        if let excess = SkillLimits.excess(files: resources.count, bytes: Int64(total)) { return refused("it is over the Skills extension's limits: \(excess)") }

        var hasher = SHA256()
        hasher.update(data: Data(uri.utf8))
        for r in resources.sorted(by: { $0.path < $1.path }) { hasher.update(data: Data("\0\(r.path)\0\(r.digest)\0\(r.size)".utf8)) }
        let digest = SkillDiscovery.storageFormat + "mcp:" + hasher.finalize().hex
        if known[path] == digest {
            return DiscoveredSkill(path: path, fileName: "SKILL.md", parsed: .unreadable(name, "not read: unchanged"), files: [], digest: digest, reused: true)
        }

        var files: [SkillFile] = []
        var markdown = Data()
        for r in resources.sorted(by: { $0.path < $1.path }) {
            let bytes = try await read(r.uri)
            let actual = "sha256:" + SHA256.hash(data: bytes).hex
            guard bytes.count == r.size, actual == r.digest else {
                return refused("\(r.path): the server's bytes (\(bytes.count) bytes, \(actual)) do not match its entry (\(r.size) bytes, \(r.digest))")
            }
            if r.path == "SKILL.md" { markdown = bytes }
            files.append(file(r.path, bytes, digest: actual))
        }
        var parsed = ParsedSkill.parse(markdown, directoryName: name)
        if let differs = Self.difference(entry: .object(frontmatter), file: parsed.frontmatter ?? .object([:])) {
            return refused("its SKILL.md frontmatter differs from its entry (\(differs))")
        }
        parsed.warnings.append("from bridged server '\(server)' (\(uri)): content an MCP server supplies is untrusted")
        return DiscoveredSkill(path: path, fileName: "SKILL.md", parsed: parsed, files: files, digest: digest)
    }

    /// The bytes of one file, as `resources/read` gives them (text as UTF-8, a blob decoded).
    func read(_ uri: String) async throws(Failure) -> Data {
        let answer = try await ask("resources/read", ["uri": .string(uri)])
        guard let contents = answer["contents"]?.arrayValue, let content = contents.first(where: { $0["uri"]?.stringValue == uri }) ?? contents.first else {
            throw Failure(message: "\(server) answered resources/read \(uri) without contents")
        }
        if let text = content["text"]?.stringValue { return Data(text.utf8) }
        if let blob = content["blob"]?.stringValue, let data = Data(base64Encoded: blob) { return data }
        throw Failure(message: "\(server) answered resources/read \(uri) with neither text nor a base64 blob")
    }

    /// A verified file as the registry keeps it (text within the text cap, else bytes).
    func file(_ path: String, _ bytes: Data, digest: String) -> SkillFile {
        let text = bytes.prefix(8192).contains(0) ? nil : String(validating: bytes, as: UTF8.self)
        var file = SkillFile(path: path, kind: .file, size: Int64(bytes.count), isBinary: text == nil, text: nil, digest: digest)
        if let text, bytes.count <= options.maxFileBytes {
            file.text = text
            if text.contains("\0") || !text.utf8.elementsEqual(bytes) { file.data = bytes }
        } else {
            file.data = bytes
        }
        return file
    }

    /// A relative path with no empty, `.` or `..` segment, percent-decoded; nil otherwise.
    static func relativePath(_ encoded: String) -> String? {
        let segments = encoded.split(separator: "/", omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
        guard !segments.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") }) else { return nil }
        return segments.joined(separator: "/")
    }

    static func isDigest(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.utf8.count == 71 && text.utf8.dropFirst(7).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The first field where the entry's frontmatter and the file's differ (numbers compared by
    /// value: `1` and `1.0` agree), or nil when they agree.
    static func difference(entry: JSONValue, file: JSONValue, at path: String = "") -> String? {
        switch (entry, file) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys).sorted() {
                let field = path.isEmpty ? key : path + "." + key
                guard let x = a[key] else { return "\(field) is only in the file" }
                guard let y = b[key] else { return "\(field) is only in the entry" }
                if let found = difference(entry: x, file: y, at: field) { return found }
            }
            return nil
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return "\(path) has \(a.count) items in the entry, \(b.count) in the file" }
            for (index, pair) in zip(a, b).enumerated() {
                if let found = difference(entry: pair.0, file: pair.1, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)):
            return Double(a) == b ? nil : path
        default:
            return entry == file ? nil : path
        }
    }
}
