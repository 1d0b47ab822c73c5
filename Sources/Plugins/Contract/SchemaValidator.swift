import Base

/// Validates tool arguments against a tool's input schema: the JSON Schema keywords tool schemas
/// use (type, properties, required, additionalProperties, enum, const, bounds on numbers, strings,
/// arrays and objects, items, anyOf, oneOf, not). Unknown keywords are ignored, as the spec allows.
/// Each problem names the field and what was expected.
public enum SchemaValidator {
    /// The problems found, each as `field: expected ..., got ...`; empty when the value is valid.
    public static func problems(in value: JSONValue, schema: JSONValue, limit: Int = 8) -> [String] {
        var found: [String] = []
        check(value, schema, path: "", into: &found, limit: limit)
        return found
    }

    private static func name(_ path: String) -> String { path.isEmpty ? "arguments" : path }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s.count > 40 ? "a string of \(s.count) characters" : "\"\(s)\""
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        case .null: return "null"
        default: return value.jsonText
        }
    }

    private static func matchesType(_ value: JSONValue, _ type: String) -> Bool {
        switch type {
        case "integer": return value.intValue != nil
        case "number": return value.doubleValue != nil
        case "string": return value.stringValue != nil
        case "boolean": return value.boolValue != nil
        case "array": return value.arrayValue != nil
        case "object": return value.objectValue != nil
        case "null": return value.isNull
        default: return true
        }
    }

    static func check(_ value: JSONValue, _ schema: JSONValue, path: String, into found: inout [String], limit: Int) {
        guard found.count < limit else { return }
        if schema == .bool(false) { found.append("\(name(path)): is not allowed"); return }
        guard let s = schema.objectValue else { return }
        func fail(_ message: String) { if found.count < limit { found.append("\(name(path)): \(message)") } }

        if let type = s["type"] {
            let types = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !types.isEmpty, !types.contains(where: { matchesType(value, $0) }) {
                let article = types.count == 1 && ["array", "object", "integer"].contains(types[0]) ? "an" : "a"
                fail("expected \(types.count == 1 ? "\(article) \(types[0])" : "one of \(types.joined(separator: ", "))"), got \(value.typeName == "null" ? "null" : describe(value))")
                return
            }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(where: { equal($0, value) }) {
            fail("expected one of \(options.map(\.jsonText).joined(separator: ", ")), got \(describe(value))")
        }
        if let constant = s["const"], !equal(constant, value) { fail("expected \(constant.jsonText), got \(describe(value))") }

        if let number = value.doubleValue {
            if let min = s["minimum"]?.doubleValue, number < min { fail("expected at least \(format(min)), got \(value.jsonText)") }
            if let max = s["maximum"]?.doubleValue, number > max { fail("expected at most \(format(max)), got \(value.jsonText)") }
            if let min = s["exclusiveMinimum"]?.doubleValue, number <= min { fail("expected more than \(format(min)), got \(value.jsonText)") }
            if let max = s["exclusiveMaximum"]?.doubleValue, number >= max { fail("expected less than \(format(max)), got \(value.jsonText)") }
        }
        if let string = value.stringValue {
            let length = string.unicodeScalars.count
            if let min = s["minLength"]?.intValue, length < min {
                fail(min == 1 ? "must not be empty" : "expected at least \(min) characters, got \(length)")
            }
            if let max = s["maxLength"]?.intValue, length > max { fail("expected at most \(max) characters, got \(length)") }
        }
        if let array = value.arrayValue {
            if let min = s["minItems"]?.intValue, array.count < min { fail("expected at least \(min) items, got \(array.count)") }
            if let max = s["maxItems"]?.intValue, array.count > max { fail("expected at most \(max) items, got \(array.count)") }
            if s["uniqueItems"] == .bool(true), Set(array.map(\.jsonText)).count != array.count { fail("items must be unique") }
            if let items = s["items"] {
                for (index, item) in array.enumerated() { check(item, items, path: "\(path)[\(index)]", into: &found, limit: limit) }
            }
        }
        if let object = value.objectValue {
            let properties = s["properties"]?.objectValue ?? [:]
            for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[key] == nil {
                if found.count < limit { found.append("\(join(path, key)): is required") }
            }
            if let min = s["minProperties"]?.intValue, object.count < min { fail("expected at least \(min) properties") }
            if let max = s["maxProperties"]?.intValue, object.count > max { fail("expected at most \(max) properties") }
            for key in object.keys.sorted() {
                let child = object[key]!
                if let property = properties[key] {
                    check(child, property, path: join(path, key), into: &found, limit: limit)
                } else if let additional = s["additionalProperties"] {
                    if additional == .bool(false) {
                        let known = properties.keys.sorted()
                        fail("unknown field '\(key)'" + (known.isEmpty ? "" : " (expected \(known.joined(separator: ", ")))"))
                    } else {
                        check(child, additional, path: join(path, key), into: &found, limit: limit)
                    }
                }
            }
        }
        if let options = s["anyOf"]?.arrayValue, !options.contains(where: { problems(in: value, schema: $0, limit: 1).isEmpty }) {
            fail(options.compactMap { $0["description"]?.stringValue }.first ?? "does not match any allowed form")
        }
        if let options = s["oneOf"]?.arrayValue {
            let matching = options.filter { problems(in: value, schema: $0, limit: 1).isEmpty }.count
            if matching != 1 { fail(matching == 0 ? "does not match any allowed form" : "matches more than one allowed form") }
        }
        if let not = s["not"], problems(in: value, schema: not, limit: 1).isEmpty {
            fail(not["description"]?.stringValue ?? "is not allowed in this form")
        }
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func format(_ d: Double) -> String { d.rounded() == d && abs(d) < 9e15 ? String(Int(d)) : String(d) }

    /// JSON equality where 1 and 1.0 are the same number.
    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }
}
