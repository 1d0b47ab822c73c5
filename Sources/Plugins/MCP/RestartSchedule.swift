/// When a bridged server that ended is started again: after 1 s, doubling to a cap; a server that
/// ran for a stable period starts the count afresh; past the restart budget it is `failed` and
/// retried only on the long interval. A value type with no clock: the supervisor tells it how long
/// the server ran, tests do the same without sleeping.
public struct RestartSchedule: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var firstDelay: Duration = .seconds(1)
        public var maxDelay: Duration = .seconds(30)
        /// Restarts in a row (without a stable period between them) before the server is `failed`.
        public var budget = 5
        /// A server that ran this long before it ended counts as having recovered.
        public var stableAfter: Duration = .seconds(60)
        /// How often a `failed` server is tried again.
        public var failedRetry: Duration = .seconds(300)
        public init() {}
    }

    public enum Next: Sendable, Equatable {
        /// Start again after `delay`.
        case restart(after: Duration)
        /// The budget is spent: start again only after the long interval.
        case failed(retryAfter: Duration)
    }

    public let settings: Settings
    /// Ends in a row without a stable run between them.
    public private(set) var failures = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// The server ended after running for `ranFor`: what happens next.
    public mutating func ended(after ranFor: Duration) -> Next {
        if ranFor >= settings.stableAfter { failures = 0 }
        failures += 1
        if failures > settings.budget { return .failed(retryAfter: settings.failedRetry) }
        var delay = settings.firstDelay
        for _ in 1..<failures {
            delay = delay * 2
            if delay >= settings.maxDelay { return .restart(after: settings.maxDelay) }
        }
        return .restart(after: min(delay, settings.maxDelay))
    }
}
