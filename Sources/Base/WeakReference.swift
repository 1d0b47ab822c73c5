import Synchronization

/// A weak reference that any thread may set and read: how a closure handed to a child or a
/// callback reaches its owner without keeping it alive.
public final class WeakReference<Object: AnyObject & Sendable>: Sendable {
    private struct Slot { weak var object: Object? }
    private let slot = Mutex(Slot())

    public init(_ object: Object? = nil) { slot.withLock { $0.object = object } }

    public var object: Object? {
        get { slot.withLock { $0.object } }
        set { slot.withLock { $0.object = newValue } }
    }
}
