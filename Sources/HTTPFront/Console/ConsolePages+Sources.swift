import Base
import Core
import Foundation
import Host
import Hummingbird

extension WebConsole {
    /// How long "sync now" holds the form's answer before showing the run as still going (the page then
    /// refreshes itself until it ends).
    static let syncWait: Duration = .seconds(15)

    /// `GET /sources` (status, revision, last success, failures and why, next attempt, counts, and the
    /// sync run `?run=` started here) and `POST /sources/{name}/sync` (admin).
    func addSourcePages(_ pages: RouterGroup<APIContext>) {
        pages.get("sources") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let reports: [SourceReport]
            do throws(CoreError) { reports = try await self.api.directory.sources() } catch { throw ConsoleError(error) }
            var data: [String: Any] = [
                "sources": reports.map(Self.sourceRow), "canSync": who.admin && self.api.runtime.sync != nil,
                "noSync": self.api.runtime.sync == nil,
            ]
            var refresh: Int?
            if let id = request.query("run"), let run = self.api.syncRuns.run(id) {
                var shown: [String: Any] = ["source": run.source, "done": run.done, "started": ConsoleFormat.time(run.startedAt)]
                if let result = run.result {
                    shown["outcome"] = result.outcome.rawValue
                    shown["failed"] = result.isFailure
                    shown["summary"] = Self.summary(result)
                }
                if !run.done { refresh = 2 }
                data["run"] = shown
            }
            return self.view.page("sources", title: "Sources", section: "/sources", data: data, who: viewer, refresh: refresh)
        }
        pages.post("sources/:name/sync") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            try Self.requireAdmin(who, "start a sync")
            let name = try context.pathParameter("name")
            guard who.snapshot.manifest.source(named: name) != nil else { throw ConsoleError.notFound("No source '\(TraceRedaction.name(name))' in the manifest.") }
            guard let sync = self.api.runtime.sync else { throw ConsoleError(.conflict, "This host does not sync (it runs with --no-sync).") }
            let runs = self.api.syncRuns
            let id = runs.start(name)
            let task = Task {
                let result = await sync.syncNow([name]).first
                runs.finish(id, result)
            }
            // Wait for the run, up to a bound: a slow git fetch goes on, and the page shows it running.
            _ = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await task.value; return true }
                group.addTask { try? await Task.sleep(for: Self.syncWait); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            self.api.logger.info("console sync", metadata: ["source": "\(name)", "agent": "\(who.agent)", "run": "\(id)"])
            return ConsoleView.redirect("/sources?run=\(id)")
        }
    }

    /// One line on how a sync ended.
    static func summary(_ r: SourceSyncResult) -> String {
        var parts = ["\(r.source): \(r.outcome.rawValue)"]
        if let revision = r.revision { parts.append("revision \(ConsoleFormat.short(revision))") }
        if r.outcome == .published || r.outcome == .unchanged { parts.append("\(r.skills) skill\(r.skills == 1 ? "" : "s")") }
        parts.append(String(format: "%.2f s", r.seconds))
        var text = parts.joined(separator: ", ")
        if let message = r.message, !message.isEmpty { text += ": " + message }
        return text
    }
}
