/// A `Duration` in the units the system calls and SQL take.
extension Duration {
    /// Seconds, with their fraction (`Date`, `NSCondition`, `TimeInterval`).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// Whole milliseconds, rounded down (intervals in SQL).
    public var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
