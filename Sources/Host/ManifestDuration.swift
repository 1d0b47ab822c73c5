import Foundation

/// A duration written as `30s`, `15m`, `1h`, `1d`, `500ms`, or a sum such as `1h30m`.
public struct ManifestDuration: Codable, Sendable, Hashable, CustomStringConvertible {
    public let seconds: Double
    public let text: String

    public init(seconds: Double, text: String) {
        self.seconds = seconds
        self.text = text
    }

    /// As a Swift `Duration` (millisecond precision, as written).
    public var duration: Duration { .milliseconds(Int64((seconds * 1000).rounded())) }

    public init(parsing text: String) throws(DurationError) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { throw DurationError("duration is empty; write it like 30s, 15m, 1h or 1d") }
        var total = 0.0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Double(digits) else {
                throw DurationError("'\(text)' is not a duration; write it like 30s, 15m, 1h or 1d")
            }
            rest = rest.dropFirst(digits.count)
            guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else {
                throw DurationError("'\(text)' is not a duration: a number needs a unit (ms, s, m, h, d), as in 30s, 15m, 1h or 1d")
            }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        guard total > 0 else { throw DurationError("duration '\(text)' must be longer than zero") }
        guard total <= Self.maxSeconds else { throw DurationError("duration '\(text)' is longer than the most allowed, 365d") }
        self.seconds = total
        self.text = text
    }

    public var description: String { text }

    /// `seconds` as the manifest writes it: the largest unit that divides it (`7d`, `90s`, `500ms`).
    public static func text(seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded())
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where milliseconds >= size && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// A Swift `Duration` as the manifest writes it.
    public static func text(_ duration: Duration) -> String {
        text(seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// The longest duration a manifest may give (dates further out overflow what the registry stores).
    public static let maxSeconds = 365.0 * 86400
}

public struct DurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

