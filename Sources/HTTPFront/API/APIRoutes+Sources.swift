import Base
import Core
import Foundation
import Host
import Hummingbird

/// Syncs started over HTTP, by run id, so a client that did not wait can ask how it went.
final class SyncRuns: Sendable {
    struct Run: Sendable {
        var source: String
        var startedAt: Date
        var result: SourceSyncResult?
        var done = false
    }
    private let runs = LockedValue<[(id: String, run: Run)]>([])

    func start(_ source: String) -> String {
        let id = "run_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        runs.mutate { runs in
            runs.append((id, Run(source: source, startedAt: Date())))
            if runs.count > 200 { runs.removeFirst(runs.count - 200) }
        }
        return id
    }

    func finish(_ id: String, _ result: SourceSyncResult?) {
        runs.mutate { runs in
            if let index = runs.firstIndex(where: { $0.id == id }) {
                runs[index].run.result = result
                runs[index].run.done = true
            }
        }
    }

    func run(_ id: String) -> Run? { runs.value.first { $0.id == id }?.run }
}

extension HTTPAPI {
    /// `GET /v1/sources`, `POST /v1/sources/{name}/sync` (admin), `GET /v1/sources/{name}/runs/{id}`,
    /// and `POST /v1/reload` (admin).
    func addSourceRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("sources") { _, context -> Response in
            _ = try context.who()
            let reports: [SourceReport]
            do throws(CoreError) { reports = try await self.directory.sources() } catch { throw APIError(error) }
            return HTTPFront.json(.ok, ["sources": .array(reports.map(\.json))])
        }
        v1.post("sources/:name/sync") { request, context -> Response in
            let who = try context.who()
            guard who.admin else { throw APIError.forbidden("only an admin agent (agents.NAME.admin: true) may start a sync") }
            let name = try context.pathParameter("name")
            guard who.snapshot.manifest.source(named: name) != nil else { throw APIError.notFound("no source '\(TraceRedaction.name(name))'") }
            guard let sync = self.runtime.sync else { throw APIError.conflict("this host does not sync (it runs with --no-sync)") }
            var wait = false
            if let raw = request.uri.queryParameters.get("wait") {
                switch raw.lowercased() {
                case "true", "1": wait = true
                case "false", "0": wait = false
                default: throw APIError.badRequest("wait must be true or false, found '\(raw)'")
                }
            }
            let id = self.syncRuns.start(name)
            let runs = self.syncRuns
            let task = Task {
                let result = await sync.syncNow([name]).first
                runs.finish(id, result)
                return result
            }
            if wait {
                let result = await task.value
                return HTTPFront.json(.ok, ["run_id": .string(id), "source": .string(name), "status": "done", "result": result.map { Self.encoded($0) } ?? .null])
            }
            return HTTPFront.json(.accepted, ["run_id": .string(id), "source": .string(name), "status": "running",
                                              "status_url": .string("/v1/sources/\(name)/runs/\(id)")])
        }
        v1.get("sources/:name/runs/:id") { _, context -> Response in
            _ = try context.who()
            let name = try context.pathParameter("name")
            guard let run = self.syncRuns.run(try context.pathParameter("id")), run.source == name else {
                throw APIError.notFound("no sync run with that id for source '\(TraceRedaction.name(name))' (runs started over HTTP are kept while the host runs)")
            }
            var body: [String: JSONValue] = ["source": .string(run.source), "status": .string(run.done ? "done" : "running"),
                                             "started_at": .string(TraceEvent.timestamp(run.startedAt))]
            if let result = run.result { body["result"] = Self.encoded(result) }
            return HTTPFront.json(.ok, .object(body))
        }
        v1.post("reload") { _, context -> Response in
            let who = try context.who()
            guard who.admin else { throw APIError.forbidden("only an admin agent (agents.NAME.admin: true) may reload the manifest") }
            let report = await self.state.reload(trigger: .request)
            return HTTPFront.json(report.result == .rejected ? .unprocessableContent : .ok, [
                "result": .string(report.result.rawValue), "revision": .string(report.revision), "previous": .string(report.previous),
                "message": .string(report.message), "errors": .array(report.errors.map { .string($0) }), "notes": .array(report.notes.map { .string($0) }),
            ])
        }
    }

    static func encoded<T: Encodable>(_ value: T) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(value)).flatMap { try? JSONValue.decode($0) } ?? .null
    }
}
