import Synchronization

/// A value behind a lock, read and replaced whole, from any thread.
public final class LockedValue<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>

    public init(_ value: Value) { stored = Mutex(value) }

    public var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }

    /// Changes the value in place under the lock, and returns what `body` returns.
    @discardableResult
    public func mutate<Result: Sendable>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try stored.withLock { value throws -> Result in try body(&value) }
    }
}
