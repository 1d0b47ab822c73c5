import Base
import Foundation

/// A token bucket per key: `rate` requests a second sustained, `burst` at once.
final class RateLimiter: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var at: ContinuousClock.Instant
    }
    private let buckets = LockedValue<[String: Bucket]>([:])

    /// nil when the request may go ahead; else the seconds to wait before the next one may.
    /// `cost`: how many tokens the request takes (a batch of reported events takes one per event).
    func admit(_ key: String, rate: Double, burst: Int, cost: Int = 1, now: ContinuousClock.Instant = .now) -> Int? {
        var verdict: Int?
        buckets.mutate { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(burst), at: now)
            let elapsed = Double((now - bucket.at).components.seconds) + Double((now - bucket.at).components.attoseconds) / 1e18
            bucket.tokens = min(Double(burst), bucket.tokens + max(0, elapsed) * rate)
            bucket.at = now
            let cost = Double(max(1, cost))
            if bucket.tokens >= cost {
                bucket.tokens -= cost
            } else {
                verdict = max(1, Int(((cost - bucket.tokens) / rate).rounded(.up)))
            }
            buckets[key] = bucket
            if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < Double(burst) } }
        }
        return verdict
    }
}
