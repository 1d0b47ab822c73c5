import Foundation

/// Reads newline-delimited messages from a file descriptor on a dedicated thread (blocking
/// `read(2)`, never the cooperative pool) and hands them over as an `AsyncStream`.
///
/// A line longer than `maxLineBytes` is not buffered: its bytes are dropped as they arrive and it is
/// reported as `.oversized` with its first bytes, so the connection survives it. At most
/// `maxPending` lines wait for the consumer; past that the thread stops reading (backpressure).
public final class LineReader: Sendable {
    public enum Event: Sendable {
        case line([UInt8])
        /// A line over the cap: its length and its first bytes (enough to find a request id).
        case oversized(byteCount: Int, prefix: [UInt8])
        /// End of input, or a read error (its description).
        case closed(error: String?)
    }

    public static let defaultMaxLineBytes = 16 << 20
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let fd: Int32
    private let maxLineBytes: Int
    private let slots: DispatchSemaphore
    private let closesDescriptor: Bool
    /// When set, events go straight to it on the reading thread (no stream, no hop).
    private let handler: (@Sendable (Event) -> Void)?
    private static let prefixBytes = 4096

    /// With `closesDescriptor`, the descriptor is closed when reading ends (a child's pipe).
    public init(fd: Int32, maxLineBytes: Int = defaultMaxLineBytes, maxPending: Int = 4096, closesDescriptor: Bool = false) {
        self.fd = fd
        self.closesDescriptor = closesDescriptor
        self.maxLineBytes = maxLineBytes
        self.slots = DispatchSemaphore(value: maxPending)
        self.handler = nil
        (events, continuation) = AsyncStream<Event>.makeStream()
    }

    /// A reader that hands each event to `handler` on its own thread, as soon as it is read: for a
    /// consumer that does little with each line (settling a waiting request), the lowest latency.
    /// The handler must not block for long: while it runs, nothing more is read. `events` stays empty.
    public init(fd: Int32, maxLineBytes: Int = defaultMaxLineBytes, closesDescriptor: Bool = false,
                handler: @escaping @Sendable (Event) -> Void) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
        self.closesDescriptor = closesDescriptor
        self.slots = DispatchSemaphore(value: 1)
        self.handler = handler
        (events, continuation) = AsyncStream<Event>.makeStream()
        continuation.finish()
    }

    /// Starts the reading thread. Consumers call `consumed()` once per `.line` or `.oversized` taken.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "agenthub.line-reader"
        thread.start()
    }

    /// Frees one pending slot.
    public func consumed() { slots.signal() }

    private func run() {
        var pending: [UInt8] = []
        var discarding = false
        var discarded = 0
        var prefix: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        func emit(_ event: Event) {
            if let handler { handler(event); return }
            slots.wait()
            continuation.yield(event)
        }
        func take(_ segment: ArraySlice<UInt8>, complete: Bool) {
            if discarding || pending.count + segment.count > maxLineBytes {
                if !discarding {
                    discarding = true
                    discarded = pending.count
                    prefix = Array(pending.prefix(Self.prefixBytes))
                    pending.removeAll(keepingCapacity: false)
                }
                if prefix.count < Self.prefixBytes { prefix += segment.prefix(Self.prefixBytes - prefix.count) }
                discarded += segment.count
                if complete {
                    emit(.oversized(byteCount: discarded, prefix: prefix))
                    discarding = false
                    discarded = 0
                    prefix = []
                }
                return
            }
            pending += segment
            guard complete else { return }
            if pending.last == 0x0D { pending.removeLast() }
            if pending.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { emit(.line(pending)) }
            pending.removeAll(keepingCapacity: true)
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                if let handler { handler(.closed(error: reason)) } else { continuation.yield(.closed(error: reason)) }
                break
            }
            if n == 0 {
                if !pending.isEmpty || discarding { take([], complete: true) }
                if let handler { handler(.closed(error: nil)) } else { continuation.yield(.closed(error: nil)) }
                break
            }
            var start = 0
            chunk.withUnsafeBufferPointer { buffer in
                while let newline = buffer[start..<n].firstIndex(of: 0x0A) {
                    take(chunk[start..<newline], complete: true)
                    start = newline + 1
                }
            }
            if start < n { take(chunk[start..<n], complete: false) }
        }
        if closesDescriptor { close(fd) }
        continuation.finish()
    }
}
