import Base
import Core
import Foundation
import Host
import Hummingbird

extension WebConsole {
    static let keyLifetimes: [(value: String, label: String, seconds: TimeInterval?)] = [
        ("never", "Never expires", nil), ("1d", "1 day", 86400), ("30d", "30 days", 30 * 86400), ("90d", "90 days", 90 * 86400),
        ("365d", "1 year", 365 * 86400),
    ]

    /// `GET /keys`, `POST /keys` (create: the key is shown once, in the answer to the form) and
    /// `POST /keys/{id}/revoke`: admin only, as `agenthub keys` is the operator's.
    func addKeyPages(_ pages: RouterGroup<APIContext>) {
        pages.get("keys") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            try Self.requireAdmin(who, "manage keys")
            return try await self.keysPage(viewer, who, revoked: request.query("revoked"))
        }
        pages.post("keys") { _, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            try Self.requireAdmin(who, "create keys")
            let form = context.form
            let agent = form["agent"] ?? ""
            let label = form["label"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            guard let lifetime = Self.keyLifetimes.first(where: { $0.value == (form["expires"] ?? "never") }) else {
                throw ConsoleError.badRequest("expires must be one of \(Self.keyLifetimes.map(\.value).joined(separator: ", ")).")
            }
            let keys = self.api.keys, manifest = who.snapshot.manifest
            let made: Result<(key: String, record: APIKeyRecord), HostError>
            do throws(HostError) { made = .success(try await keys.create(agent: agent, manifest: manifest, label: label, expiresIn: lifetime.seconds)) } catch {
                made = .failure(error)
            }
            switch made {
            case .success(let made):
                self.api.logger.info("console created key", metadata: ["key": "\(made.record.id)", "for": "\(agent)", "by": "\(who.agent)"])
                return try await self.keysPage(viewer, who, created: (made.key, made.record))
            case .failure(let error):
                return try await self.keysPage(viewer, who, flash: .error(error.message), status: .badRequest)
            }
        }
        pages.post("keys/:id/revoke") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            try Self.requireAdmin(who, "revoke keys")
            let id = try context.pathParameter("id")
            let keys = self.api.keys
            let revoked: Result<APIKeyRecord, HostError>
            do throws(HostError) { revoked = .success(try await keys.revoke(id)) } catch { revoked = .failure(error) }
            switch revoked {
            case .success(let record):
                self.api.logger.info("console revoked key", metadata: ["key": "\(record.id)", "by": "\(who.agent)"])
                return ConsoleView.redirect("/keys?revoked=" + ConsoleFormat.encode(record.id))
            case .failure(let error):
                throw ConsoleError.notFound(error.message)
            }
        }
    }

    func keysPage(_ viewer: ConsoleViewer, _ who: APIIdentity, created: (key: String, record: APIKeyRecord)? = nil, flash: ConsoleFlash? = nil,
                  revoked: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let keys = self.api.keys
        let listed: Result<[APIKeyRecord], HostError>
        do throws(HostError) { listed = .success(try await keys.list()) } catch { listed = .failure(error) }
        guard case .success(let records) = listed else { throw ConsoleError(.internalServerError, "The registry could not list keys.") }
        var flash = flash
        // Said only of a key that is revoked: the query string cannot put words on the page.
        if let revoked, let record = records.first(where: { $0.id == revoked && $0.revokedAt != nil }) {
            flash = .ok("Key \(record.id) (\(record.agent)) is revoked; a host refuses it from its next request.")
        }
        let now = Date()
        var data: [String: Any] = [
            "keys": records.map { k -> [String: Any] in
                let state = k.revokedAt != nil ? "revoked" : (k.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                return ["id": k.id, "agent": k.agent, "label": k.label ?? "", "hint": k.hint, "created": ConsoleFormat.time(k.createdAt),
                        "expires": k.expiresAt.map { ConsoleFormat.time($0) } ?? "never", "state": state, "active": state == "active",
                        "stateClass": state == "active" ? "good" : "bad"]
            },
            "none": records.isEmpty,
            "agents": who.snapshot.manifest.agents.map { ["name": $0.name, "role": $0.role, "admin": $0.admin] },
            "lifetimes": Self.keyLifetimes.map { ["value": $0.value, "label": $0.label] },
        ]
        if let created { data["created"] = ["key": created.key, "id": created.record.id, "agent": created.record.agent] }
        return view.page("keys", title: "Keys", section: "/keys", data: data, who: viewer, status: status, flash: flash)
    }
}
