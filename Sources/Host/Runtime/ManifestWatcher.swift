import Foundation
import Synchronization
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Watches the manifest file and calls `changed` once per burst of saves. It watches the file's
/// folder with inotify, so editors that save by writing a new file and renaming it over the old one
/// are seen (`IN_MOVED_TO`), as are plain writes (`IN_CLOSE_WRITE`: a truncate-and-write is seen once,
/// when the writer closes it, never half-written). Events within `quiet` of each other are one burst.
/// It also compares the file's identity every `pollInterval`, which catches what inotify cannot see
/// (a symlinked manifest whose target changes, a file system without inotify).
/// Runs on a thread of its own: blocking in `poll` never occupies the cooperative pool.
final class ManifestWatcher: Sendable {
    struct Settings: Sendable {
        /// A burst ends after this long without another event.
        var quiet: Duration = .milliseconds(15)
        /// A burst that never goes quiet still reloads after this long.
        var maxDelay: Duration = .milliseconds(250)
        var pollInterval: Duration = .seconds(1)
    }

    private let path: String
    private let settings: Settings
    private let logger: Logger
    private let changed: @Sendable () -> Void
    private let stopped = Mutex(false)
    /// `stop` signals it, which ends the fallback's wait at once.
    private let wakeup = NSCondition()

    init(path: String, settings: Settings = Settings(), logger: Logger, changed: @escaping @Sendable () -> Void) {
        self.path = path
        self.settings = settings
        self.logger = logger
        self.changed = changed
    }

    func start() {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd >= 0, inotify_add_watch(fd, folder, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) < 0 {
            logger.warning("cannot watch the manifest's folder; changes are noticed within \(settings.pollInterval)",
                           metadata: ["host.manifest.path": "\(folder)", "host.error": "\(String(cString: strerror(errno)))"])
        }
        let thread = Thread { [self] in loop(fd: fd, name: name) }
        thread.name = "agenthub-manifest-watcher"
        thread.start()
    }

    /// Stops watching; the thread ends within one poll.
    func stop() {
        stopped.withLock { $0 = true }
        wakeup.withLock { wakeup.broadcast() }
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    private func loop(fd: Int32, name: String) {
        defer { if fd >= 0 { close(fd) } }
        var identity = Self.identity(of: path)
        var lastPoll = ContinuousClock.now
        var burstStart: ContinuousClock.Instant?
        var lastEvent = ContinuousClock.now
        let tick: Int32 = 50
        while !isStopped {
            let timeout: Int32 = burstStart == nil ? tick : Int32(max(1, min(Double(tick), settings.quiet.milliseconds)))
            if fd >= 0, wait(fd, timeout: timeout), readEvents(fd, name: name) {
                let now = ContinuousClock.now
                if burstStart == nil { burstStart = now }
                lastEvent = now
            } else if fd < 0 {
                // No inotify: only the identity check below notices changes; wait for it (or a stop).
                wakeup.withLock { if !isStopped { _ = wakeup.wait(until: Date().addingTimeInterval(Double(timeout) / 1000)) } }
            }
            let now = ContinuousClock.now
            if let start = burstStart, now - lastEvent >= settings.quiet || now - start >= settings.maxDelay {
                burstStart = nil
                identity = Self.identity(of: path)
                lastPoll = now
                changed()
                continue
            }
            if burstStart == nil, now - lastPoll >= settings.pollInterval {
                lastPoll = now
                let current = Self.identity(of: path)
                if current != identity {
                    identity = current
                    changed()
                }
            }
        }
    }

    private func wait(_ fd: Int32, timeout: Int32) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, timeout) > 0
    }

    /// Reads every pending event; true when one names the manifest.
    private func readEvents(_ fd: Int32, name: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var matched = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let length = buffer.withUnsafeBytes { raw -> Int in
                    Int(raw.loadUnaligned(fromByteOffset: offset + MemoryLayout<inotify_event>.offset(of: \.len)!, as: UInt32.self))
                }
                if length > 0, offset + header + length <= count {
                    let nameBytes = buffer[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                    if String(decoding: nameBytes, as: UTF8.self) == name { matched = true }
                }
                offset += header + length
            }
        }
        return matched
    }

    /// What changes when the file is replaced or written: device, inode, size, modification time.
    static func identity(of path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_dev), Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }
}
