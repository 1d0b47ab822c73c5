#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shell-style glob: `*`, `?`, `[abc]`, `[!a-z]`, and, for paths, `**` spanning directories.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public enum Mode: Sendable, Hashable {
        /// Whole-string match (tool names, skill names).
        case name
        /// `/`-separated match where `*` stays within a segment and `**` spans segments.
        case path
    }

    public let pattern: String
    public let mode: Mode
    private let segments: [String]

    /// Compiles a pattern; the error message says what is wrong with it.
    public init(_ pattern: String, mode: Mode = .name) throws(GlobError) {
        guard !pattern.isEmpty else { throw GlobError("pattern is empty") }
        guard !pattern.contains("\0") else { throw GlobError("pattern '\(pattern)' contains a NUL byte") }
        var depth = 0
        for char in pattern {
            if char == "[" { depth += 1 } else if char == "]", depth > 0 { depth -= 1 }
        }
        if depth != 0 { throw GlobError("pattern '\(pattern)' has an unclosed '['") }
        if pattern.contains("[]") { throw GlobError("pattern '\(pattern)' has an empty character class '[]'") }
        if mode == .path {
            if pattern.hasPrefix("/") { throw GlobError("path pattern '\(pattern)' must be relative to the source") }
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.contains("..") { throw GlobError("path pattern '\(pattern)' must not contain '..'") }
            for part in parts where part.contains("**") && part != "**" {
                throw GlobError("path pattern '\(pattern)': '**' must be a whole path segment")
            }
            segments = parts.filter { !$0.isEmpty && $0 != "." }
        } else {
            if pattern.contains("**") { throw GlobError("name pattern '\(pattern)' must not contain '**'") }
            segments = [pattern]
        }
        self.pattern = pattern
        self.mode = mode
    }

    public var description: String { pattern }

    /// True when the pattern has no wildcard: it names exactly one thing.
    public var isLiteral: Bool { !pattern.contains(where: { "*?[".contains($0) }) }

    /// The leading segments without wildcards (where a directory walk can start).
    public var literalPrefix: [String] {
        Array(segments.prefix { !$0.contains(where: { "*?[".contains($0) }) })
    }

    public func matches(_ text: String) -> Bool {
        switch mode {
        case .name: return Glob.fnmatchSegment(pattern, text)
        case .path:
            let parts = text.split(separator: "/").map(String.init)
            return Glob.match(segments[...], parts[...])
        }
    }

    private static func match(_ pattern: ArraySlice<String>, _ parts: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return parts.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            var remaining = parts
            while true {
                if match(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let part = parts.first, fnmatchSegment(head, part) else { return false }
        return match(pattern.dropFirst(), parts.dropFirst())
    }

    private static func fnmatchSegment(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }
}

/// A glob that cannot be compiled.
public struct GlobError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
