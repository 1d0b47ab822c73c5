import Base

/// Typed access to arguments that already passed schema validation. The throwing accessors still
/// check, so a plugin called directly (bypassing the router) fails cleanly rather than crashing.
public struct ToolArguments: Sendable {
    public let values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) { self.values = values }

    public func has(_ key: String) -> Bool { values[key].map { !$0.isNull } ?? false }

    public func string(_ key: String) throws(ToolError) -> String {
        guard let v = values[key]?.stringValue else { throw ToolError(.invalidArguments, "\(key): expected a string") }
        return v
    }

    public func optionalString(_ key: String) throws(ToolError) -> String? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw ToolError(.invalidArguments, "\(key): expected a string, got \(v.typeName)") }
        return s
    }

    public func optionalInt(_ key: String, in range: ClosedRange<Int>? = nil) throws(ToolError) -> Int? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw ToolError(.invalidArguments, "\(key): expected an integer, got \(v.typeName)") }
        if let range, !range.contains(i) {
            throw ToolError(.invalidArguments, "\(key): expected \(range.lowerBound) to \(range.upperBound), got \(i)")
        }
        return i
    }

    public func optionalDouble(_ key: String, in range: ClosedRange<Double>? = nil) throws(ToolError) -> Double? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw ToolError(.invalidArguments, "\(key): expected a number, got \(v.typeName)") }
        if let range, !range.contains(d) {
            throw ToolError(.invalidArguments, "\(key): expected \(range.lowerBound) to \(range.upperBound), got \(d)")
        }
        return d
    }

    public func optionalBool(_ key: String) throws(ToolError) -> Bool? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw ToolError(.invalidArguments, "\(key): expected true or false, got \(v.typeName)") }
        return b
    }

    public func optionalObject(_ key: String) throws(ToolError) -> [String: JSONValue]? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw ToolError(.invalidArguments, "\(key): expected an object, got \(v.typeName)") }
        return o
    }

    public func optionalStrings(_ key: String) throws(ToolError) -> [String]? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw ToolError(.invalidArguments, "\(key): expected an array of strings, got \(v.typeName)") }
        var out: [String] = []
        for item in a {
            guard let s = item.stringValue else { throw ToolError(.invalidArguments, "\(key): expected an array of strings") }
            out.append(s)
        }
        return out
    }
}
