import Base
import Foundation
import Logging
import ServiceLifecycle

/// The sync scheduler as a service: every source on its interval, starting from what the registry
/// remembers (a source synced a minute ago by the last process is not synced again at once), until
/// the group shuts down. Then no new run starts; runs in flight get `grace` to finish (a git fetch
/// worker is tied to this process and dies with it; a publish is one transaction either way).
struct SyncSchedulerService: Service {
    let sync: SyncService
    var grace: Duration = .seconds(2)

    func run() async throws {
        let sync = self.sync
        // The scheduler's loop ends at the group's graceful shutdown (its task is cancelled).
        _ = await cancelWhenGracefulShutdown { await sync.run() }
        let scheduler = sync.scheduler
        _ = await finishes(within: grace) { await scheduler.drain() }
    }
}
