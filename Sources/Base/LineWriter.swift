import Foundation

/// Writes newline-delimited messages to a file descriptor from a dedicated thread, so a slow
/// reader on the other end never blocks the cooperative pool. Messages queued while a write is in
/// progress go out together in the next `write(2)`.
/// Sendable, unchecked: its queue lives under an `NSCondition` that its writer thread waits on (a
/// `Mutex` cannot be waited on); every field is read and written with that condition held.
public final class LineWriter: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var queued: [UInt8] = []
    private var writing = false
    private var inProgress = 0
    private var closed = false
    private var brokenError: String?
    private let onBroken: @Sendable (String) -> Void
    /// Tasks waiting for the queue to shrink to their limit (`waitForRoom`), by ticket.
    private var roomWaiters: [Int: (limit: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextTicket = 0
    /// A direct write failed: the writer thread records it and calls `onBroken`.
    private var pendingFailure: String?

    private let closesDescriptor: Bool
    /// When `send` may write from the caller's thread instead of waking the writer thread.
    public enum DirectWrites: Sendable {
        /// Never: every line goes through the writer thread.
        case never
        /// Always when nothing is queued: the descriptor is made non-blocking (only for a pipe no other
        /// process writes, such as a child's stdin), and what does not fit goes to the writer thread.
        case nonBlocking
        /// When nothing is queued and the write cannot block, for a descriptor shared with others
        /// (stdout), which must stay blocking: on a pipe the reader has emptied, a line up to the pipe's
        /// size; otherwise a line of at most 4 KiB when the descriptor has room for it now (a pipe
        /// reports writable with a page free).
        case smallWhenWritable
    }

    private let directWrites: DirectWrites
    /// The descriptor's pipe size, when it is a pipe (`smallWhenWritable` writes up to it into an empty one).
    private let pipeSize: Int?
    /// A caller is writing directly: the writer thread waits, so lines never interleave.
    private var directWriting = false

    /// `onBroken` is called once, from the writer thread, when the other end is gone (EPIPE) or a write fails.
    /// With `closesDescriptor`, the descriptor is closed when the writer ends (closed or broken): a
    /// child's stdin, which then sees end of input.
    ///
    /// `directWrites` lets `send` write on the caller's thread when that cannot block: no thread hop
    /// on the common path.
    public init(fd: Int32, closesDescriptor: Bool = false, directWrites: DirectWrites = .never,
                onBroken: @escaping @Sendable (String) -> Void = { _ in }) {
        self.fd = fd
        self.closesDescriptor = closesDescriptor
        self.directWrites = directWrites
        if directWrites == .nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var info = stat()
        let size = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO ? fcntl(fd, 1032) : -1   // F_GETPIPE_SZ (not imported)
        pipeSize = size > 0 ? Int(size) : nil
        self.onBroken = onBroken
        let thread = Thread { [self] in run() }
        thread.name = "agenthub.line-writer"
        thread.start()
    }

    /// Queues one line (the bytes must end with a newline). Dropped once the writer is closed or broken.
    public func send(_ line: [UInt8]) {
        condition.lock()
        guard !closed, brokenError == nil else { condition.unlock(); return }
        guard directWrites != .never, queued.isEmpty, !writing, !directWriting, mayWriteNow(line.count) else {
            queued += line
            condition.signal()
            condition.unlock()
            return
        }
        directWriting = true
        condition.unlock()
        var offset = 0
        var failure: String?
        line.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n; continue }
                if n < 0, errno == EINTR { continue }
                if n < 0, errno != EAGAIN { failure = String(cString: strerror(errno)) }
                break
            }
        }
        condition.lock()
        directWriting = false
        if let failure, brokenError == nil {
            // The writer thread reports it (onBroken) when it wakes.
            pendingFailure = failure
        } else if offset < line.count {
            queued = Array(line[offset...]) + queued
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Whether a direct write of `count` bytes cannot block.
    private func mayWriteNow(_ count: Int) -> Bool {
        switch directWrites {
        case .never: return false
        case .nonBlocking: return true
        case .smallWhenWritable:
            // An empty pipe takes up to its size without blocking: a 4 KiB file's answer is written
            // here rather than by waking the writer thread. (FIONREAD on a pipe counts what is unread
            // from either end.)
            if let pipeSize, count <= pipeSize {
                var unread: Int32 = 0
                if ioctl(fd, UInt(FIONREAD), &unread) == 0, unread == 0 { return true }
            }
            guard count <= 4096 else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            return poll(&p, 1, 0) == 1 && p.revents & Int16(POLLOUT) != 0
        }
    }

    /// Returns once at most `limit` bytes wait to be written, the writer is broken or closed, or the
    /// calling task is cancelled. How a reader applies backpressure without polling.
    public func waitForRoom(atMost limit: Int) async {
        // The common case, room already: no continuation, no ticket.
        let (roomy, ticket): (Bool, Int) = condition.withLock {
            if queued.count + inProgress <= limit || brokenError != nil || closed { return (true, 0) }
            nextTicket += 1
            return (false, nextTicket)
        }
        if roomy { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if queued.count + inProgress <= limit || brokenError != nil || closed || Task.isCancelled {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                roomWaiters[ticket] = (limit, continuation)
                condition.unlock()
            }
        } onCancel: {
            let waiter = condition.withLock { roomWaiters.removeValue(forKey: ticket) }
            waiter?.continuation.resume()
        }
    }

    /// `waitForRoom` for a thread that may block (a dedicated reading thread): returns once at most
    /// `limit` bytes wait to be written, the writer is broken or closed, or `stop` says so (asked
    /// every 50 ms).
    public func waitForRoomBlocking(atMost limit: Int, stop: () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        while queued.count + inProgress > limit, brokenError == nil, !closed, !stop() {
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
    }

    /// Resumes the waiters whose limit the queue now meets (all of them once broken or closed).
    /// Call with the lock held; the continuations are resumed after it is released.
    private func takeSatisfiedWaiters() -> [CheckedContinuation<Void, Never>] {
        let size = queued.count + inProgress
        let done = roomWaiters.filter { brokenError != nil || closed || size <= $0.value.limit }
        for key in done.keys { roomWaiters[key] = nil }
        return done.values.map(\.continuation)
    }

    /// Whether the other end is gone or a write failed (nothing more will be written).
    public var isBroken: Bool {
        condition.lock()
        defer { condition.unlock() }
        return brokenError != nil
    }

    /// Waits until everything queued is written, or `timeout` passes. Returns false on timeout or failure.
    @discardableResult
    public func drain(timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while (!queued.isEmpty || writing || directWriting) && brokenError == nil {
            if !condition.wait(until: deadline) { return false }
        }
        return brokenError == nil
    }

    /// Stops accepting messages; the thread ends after writing what is queued.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        let ready = takeSatisfiedWaiters()
        condition.unlock()
        for waiter in ready { waiter.resume() }
    }

    private func run() {
        while true {
            condition.lock()
            while (queued.isEmpty || directWriting) && !closed && pendingFailure == nil { condition.wait() }
            while directWriting { condition.wait() }
            // A direct write that failed ends the writer as a failed batch would.
            var failure = pendingFailure
            if failure == nil {
                if queued.isEmpty && closed {
                    condition.unlock()
                    if closesDescriptor { Glibc.close(fd) }
                    return
                }
                var batch: [UInt8] = []
                swap(&batch, &queued)
                writing = true
                inProgress = batch.count
                condition.unlock()

                failure = writeAll(batch)

                condition.lock()
                writing = false
                inProgress = 0
            }
            if let failure, brokenError == nil {
                brokenError = failure
                queued = []
            }
            condition.broadcast()
            let ready = takeSatisfiedWaiters()
            condition.unlock()
            for waiter in ready { waiter.resume() }
            if let failure {
                if closesDescriptor { Glibc.close(fd) }
                onBroken(failure)
                return
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> String? {
        var offset = 0
        return bytes.withUnsafeBytes { raw -> String? in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {  // someone set O_NONBLOCK on the descriptor: wait until it is writable
                        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&p, 1, 100)
                        continue
                    }
                    return String(cString: strerror(errno))
                }
                offset += n
                // Room frees up as the reader takes bytes, not only when the whole batch is out.
                condition.lock()
                inProgress -= n
                condition.broadcast()
                let ready = takeSatisfiedWaiters()
                condition.unlock()
                for waiter in ready { waiter.resume() }
            }
            return nil
        }
    }
}
