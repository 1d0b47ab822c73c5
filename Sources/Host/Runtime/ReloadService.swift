import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// The one owner of reload triggers: the manifest file changing (watched), SIGHUP (what `agenthub
/// reload` sends), and requests. It reloads once per trigger, one at a time; triggers that arrive
/// while a reload runs become one more reload after it (the file may have changed again).
public struct ReloadService: Service {
    public struct Settings: Sendable {
        /// Watch the manifest file.
        public var watchFile = true
        /// Reload on SIGHUP (only one handler per signal can be installed: this is it).
        public var reloadOnSIGHUP = true
        var watcher = ManifestWatcher.Settings()
        public init() {}
    }

    let state: HostState
    let settings: Settings
    let logger: Logger

    public init(state: HostState, settings: Settings = Settings(), logger: Logger) {
        self.state = state
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        let (triggers, continuation) = AsyncStream<ReloadTrigger>.makeStream(bufferingPolicy: .bufferingNewest(1))
        var watcher: ManifestWatcher?
        if settings.watchFile {
            watcher = ManifestWatcher(path: state.configPath, settings: settings.watcher, logger: logger) { continuation.yield(.file) }
            watcher?.start()
        }
        var hangup: DispatchSourceSignal?
        if settings.reloadOnSIGHUP {
            signal(SIGHUP, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            source.setEventHandler { continuation.yield(.signal) }
            source.resume()
            hangup = source
        }
        defer {
            watcher?.stop()
            hangup?.cancel()
            continuation.finish()
        }
        await run(triggers: triggers)
    }

    /// Reloads once per trigger until the stream ends or the group shuts down (the seam tests drive).
    public func run(triggers: AsyncStream<ReloadTrigger>) async {
        for await trigger in triggers.cancelOnGracefulShutdown() {
            await state.reload(trigger: trigger)
        }
    }
}
