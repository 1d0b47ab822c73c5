/// A release version `MAJOR.MINOR.PATCH` read from a tag (`v1.2.3` or `1.2.3`). Pre-release and build
/// suffixes make a tag a pre-release, which ranges never pick.
public struct SemanticVersion: Comparable, Sendable, CustomStringConvertible {
    public var major: Int, minor: Int, patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        (self.major, self.minor, self.patch) = (major, minor, patch)
    }

    /// Reads a tag name; nil for anything that is not a plain release version.
    public init?(tag: String) {
        var text = Substring(tag)
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]),
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        self.init(a, b, c)
    }

    public static func < (l: Self, r: Self) -> Bool {
        (l.major, l.minor, l.patch) < (r.major, r.minor, r.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

/// An npm-style version range: comparators (`>=1.2.0 <2`), carets (`^1.2`), tildes (`~1.4.2`),
/// x-ranges (`1.x`, `1.2.*`, `*`), partial versions (`1.2` means `1.2.x`) and `||` alternatives.
public struct SemverRange: Sendable, CustomStringConvertible {
    struct Bound: Sendable {
        var version: SemanticVersion
        var inclusive: Bool
    }
    /// One alternative: versions at or above `lower` and below `upper`.
    struct Interval: Sendable {
        var lower: Bound?
        var upper: Bound?

        func contains(_ v: SemanticVersion) -> Bool {
            if let lower, lower.inclusive ? v < lower.version : v <= lower.version { return false }
            if let upper, upper.inclusive ? v > upper.version : v >= upper.version { return false }
            return true
        }

        /// Whether no version can be in it (`>=2 <1`, `>1.0.0 <1.0.1` has none: versions are whole).
        var isEmpty: Bool {
            guard let lower, let upper else { return false }
            if lower.version > upper.version { return true }
            if lower.version == upper.version { return !(lower.inclusive && upper.inclusive) }
            // Between consecutive patch versions with the lower one left out, nothing remains.
            let next = SemanticVersion(lower.version.major, lower.version.minor, lower.version.patch + 1)
            return !lower.inclusive && next == upper.version && !upper.inclusive
        }

        mutating func intersect(_ other: Interval) {
            if let l = other.lower, lower.map({ l.version > $0.version || (l.version == $0.version && !l.inclusive) }) ?? true { lower = l }
            if let u = other.upper, upper.map({ u.version < $0.version || (u.version == $0.version && !u.inclusive) }) ?? true { upper = u }
        }
    }

    public let text: String
    let alternatives: [Interval]

    public var description: String { text }

    /// Parses `text`; the error names the part that could not be read.
    public init(_ text: String) throws(GitError) {
        self.text = text
        var alternatives: [Interval] = []
        for alternative in text.components(separatedBy: "||") {
            var interval = Interval()
            let words = Self.tokens(alternative)
            guard !words.isEmpty else { throw GitError(.config, "semver range '\(text)' has an empty alternative") }
            for word in words {
                guard let part = Self.interval(word) else {
                    throw GitError(.config, "semver range '\(text)': cannot read '\(word)' (use forms like ^1.2, ~1.4.2, >=1.0.0 <2, 1.x)")
                }
                interval.intersect(part)
            }
            alternatives.append(interval)
        }
        // A range no version can satisfy would stall its source at the first sync, whatever the tags.
        if alternatives.allSatisfy(\.isEmpty) {
            throw GitError(.config, "semver range '\(text)' matches no version: none is both above its lower bound and below its upper bound")
        }
        self.alternatives = alternatives
    }

    public func contains(_ version: SemanticVersion) -> Bool {
        alternatives.contains { $0.contains(version) }
    }

    /// The highest of `tags` whose version is in the range.
    public func highest(of tags: [String]) -> (tag: String, version: SemanticVersion)? {
        tags.compactMap { tag in SemanticVersion(tag: tag).map { (tag, $0) } }
            .filter { contains($0.1) }
            .max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }
    }

    /// Splits on spaces, gluing an operator written apart from its version (`>= 1.2`).
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        for word in text.split(separator: " ").map(String.init) {
            if let last = out.last, [">", ">=", "<", "<=", "=", "^", "~"].contains(last) { out[out.count - 1] += word } else { out.append(word) }
        }
        return out
    }

    /// A partial version: numbers given, and how many (`1.x` has one).
    static func partial(_ text: Substring) -> (SemanticVersion, Int)? {
        var t = text
        if t.first == "v" { t = t.dropFirst() }
        if t == "*" || t == "x" || t == "X" || t.isEmpty { return (SemanticVersion(0, 0, 0), 0) }
        var numbers: [Int] = []
        for piece in t.split(separator: ".", omittingEmptySubsequences: false) {
            if piece == "x" || piece == "X" || piece == "*" { break }
            guard let n = Int(piece), n >= 0 else { return nil }
            numbers.append(n)
        }
        guard numbers.count <= 3 else { return nil }
        let padded = numbers + Array(repeating: 0, count: 3 - numbers.count)
        return (SemanticVersion(padded[0], padded[1], padded[2]), numbers.count)
    }

    static func interval(_ word: String) -> Interval? {
        let ops = [">=", "<=", ">", "<", "=", "^", "~"]
        let op = ops.first { word.hasPrefix($0) } ?? ""
        guard let (v, given) = partial(word.dropFirst(op.count)) else { return nil }
        let next: SemanticVersion = switch given {
        case 0: SemanticVersion(Int.max, 0, 0)
        case 1: SemanticVersion(v.major + 1, 0, 0)
        case 2: SemanticVersion(v.major, v.minor + 1, 0)
        default: SemanticVersion(v.major, v.minor, v.patch + 1)
        }
        let from = Bound(version: v, inclusive: true)
        switch op {
        case ">=": return Interval(lower: from)
        case ">": return given == 3 ? Interval(lower: Bound(version: v, inclusive: false)) : Interval(lower: Bound(version: next, inclusive: true))
        case "<": return Interval(upper: Bound(version: v, inclusive: false))
        case "<=": return given == 3 ? Interval(upper: Bound(version: v, inclusive: true)) : Interval(upper: Bound(version: next, inclusive: false))
        case "^":
            let upper: SemanticVersion = if v.major > 0 || given == 1 { SemanticVersion(v.major + 1, 0, 0) }
                else if v.minor > 0 || given == 2 { SemanticVersion(0, v.minor + 1, 0) }
                else { SemanticVersion(0, 0, v.patch + 1) }
            return Interval(lower: from, upper: Bound(version: upper, inclusive: false))
        case "~":
            let upper = given <= 1 ? SemanticVersion(v.major + 1, 0, 0) : SemanticVersion(v.major, v.minor + 1, 0)
            return Interval(lower: from, upper: Bound(version: upper, inclusive: false))
        default:
            if given == 0 { return Interval() }
            return Interval(lower: from, upper: Bound(version: next, inclusive: false))
        }
    }
}
