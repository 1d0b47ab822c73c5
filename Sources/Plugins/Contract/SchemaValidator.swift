import Base

/// Validates tool arguments against a tool's input schema: the JSON Schema keywords tool schemas
/// use (type, properties, required, additionalProperties, enum, const, bounds on numbers, strings,
/// arrays and objects, items, anyOf, oneOf, not). Unknown keywords are ignored, as the spec allows.
/// Each problem names the field and what was expected.
public enum SchemaValidator {
    /// The problems found, each as `field: expected ..., got ...`; empty when the value is valid.
    /// Compiles `schema` for this one check: a router keeps a `CompiledSchema` per tool instead.
    public static func problems(in value: JSONValue, schema: JSONValue, limit: Int = 8) -> [String] {
        CompiledSchema(schema).problems(in: value, limit: limit)
    }
}

/// An input schema read once into the checks it makes (the router compiles each tool's when its
/// catalog is built): a call looks up no keyword and builds no field name unless a check fails.
public final class CompiledSchema: Sendable {
    private let root: Node

    public init(_ schema: JSONValue) { root = Node(schema) }

    /// The problems found, each as `field: expected ..., got ...`; empty when the value is valid.
    public func problems(in value: JSONValue, limit: Int = 8) -> [String] {
        var found: [String] = []
        var path = Path()
        root.check(value, path: &path, into: &found, limit: limit)
        return found
    }

    /// Where a check is, as components; made into a name (`a.b[2]`) only for a problem.
    struct Path {
        var components: [String] = []

        var name: String {
            if components.isEmpty { return "arguments" }
            var text = ""
            for component in components {
                if !text.isEmpty, !component.hasPrefix("[") { text += "." }
                text += component
            }
            return text
        }

        func name(with key: String) -> String {
            var copy = self
            copy.components.append(key)
            return copy.name
        }
    }

    final class Node: Sendable {
        enum Additional: Sendable {
            case absent
            case forbidden
            case schema(Node)
        }

        /// `false`: nothing is allowed here.
        let forbidden: Bool
        /// Not an object (`true`, or something no keyword can be read from): anything is allowed.
        let open: Bool
        let types: [String]
        let options: [JSONValue]?
        let constant: JSONValue?
        let minimum, maximum, exclusiveMinimum, exclusiveMaximum: Double?
        let minLength, maxLength: Int?
        let minItems, maxItems: Int?
        let uniqueItems: Bool
        let items: Node?
        let required: [String]
        let minProperties, maxProperties: Int?
        let properties: [String: Node]
        let additional: Additional
        let anyOf: [Node]?
        let anyOfMessage: String
        let oneOf: [Node]?
        let not: Node?
        let notMessage: String

        init(_ schema: JSONValue) {
            forbidden = schema == .bool(false)
            let s = schema.objectValue ?? [:]
            open = schema.objectValue == nil
            let type = s["type"]
            types = type?.arrayValue?.compactMap(\.stringValue) ?? type?.stringValue.map { [$0] } ?? []
            options = s["enum"]?.arrayValue
            constant = s["const"]
            minimum = s["minimum"]?.doubleValue
            maximum = s["maximum"]?.doubleValue
            exclusiveMinimum = s["exclusiveMinimum"]?.doubleValue
            exclusiveMaximum = s["exclusiveMaximum"]?.doubleValue
            minLength = s["minLength"]?.intValue
            maxLength = s["maxLength"]?.intValue
            minItems = s["minItems"]?.intValue
            maxItems = s["maxItems"]?.intValue
            uniqueItems = s["uniqueItems"] == .bool(true)
            items = s["items"].map(Node.init)
            required = s["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            minProperties = s["minProperties"]?.intValue
            maxProperties = s["maxProperties"]?.intValue
            properties = (s["properties"]?.objectValue ?? [:]).mapValues(Node.init)
            switch s["additionalProperties"] {
            case nil: additional = .absent
            case .bool(false)?: additional = .forbidden
            case let other?: additional = .schema(Node(other))
            }
            let anyOfSchemas = s["anyOf"]?.arrayValue
            anyOf = anyOfSchemas?.map(Node.init)
            anyOfMessage = anyOfSchemas?.compactMap { $0["description"]?.stringValue }.first ?? "does not match any allowed form"
            oneOf = s["oneOf"]?.arrayValue?.map(Node.init)
            not = s["not"].map(Node.init)
            notMessage = s["not"]?["description"]?.stringValue ?? "is not allowed in this form"
        }

        /// Whether `value` passes with no problem at all.
        func accepts(_ value: JSONValue) -> Bool {
            var found: [String] = []
            var path = Path()
            check(value, path: &path, into: &found, limit: 1)
            return found.isEmpty
        }

        func check(_ value: JSONValue, path: inout Path, into found: inout [String], limit: Int) {
            guard found.count < limit else { return }
            if forbidden { found.append("\(path.name): is not allowed"); return }
            if open { return }
            func fail(_ message: @autoclosure () -> String) { if found.count < limit { found.append("\(path.name): \(message())") } }

            if !types.isEmpty, !types.contains(where: { Self.matchesType(value, $0) }) {
                let article = types.count == 1 && ["array", "object", "integer"].contains(types[0]) ? "an" : "a"
                fail("expected \(types.count == 1 ? "\(article) \(types[0])" : "one of \(types.joined(separator: ", "))"), got \(value.typeName == "null" ? "null" : Self.describe(value))")
                return
            }
            if let options, !options.contains(where: { Self.equal($0, value) }) {
                fail("expected one of \(options.map(\.jsonText).joined(separator: ", ")), got \(Self.describe(value))")
            }
            if let constant, !Self.equal(constant, value) { fail("expected \(constant.jsonText), got \(Self.describe(value))") }

            switch value {
            case .int, .double:
                if let number = value.doubleValue {
                    if let minimum, number < minimum { fail("expected at least \(Self.format(minimum)), got \(value.jsonText)") }
                    if let maximum, number > maximum { fail("expected at most \(Self.format(maximum)), got \(value.jsonText)") }
                    if let exclusiveMinimum, number <= exclusiveMinimum { fail("expected more than \(Self.format(exclusiveMinimum)), got \(value.jsonText)") }
                    if let exclusiveMaximum, number >= exclusiveMaximum { fail("expected less than \(Self.format(exclusiveMaximum)), got \(value.jsonText)") }
                }
            case .string(let string):
                if minLength != nil || maxLength != nil {
                    let length = string.unicodeScalars.count
                    if let minLength, length < minLength {
                        fail(minLength == 1 ? "must not be empty" : "expected at least \(minLength) characters, got \(length)")
                    }
                    if let maxLength, length > maxLength { fail("expected at most \(maxLength) characters, got \(length)") }
                }
            case .array(let array):
                if let minItems, array.count < minItems { fail("expected at least \(minItems) items, got \(array.count)") }
                if let maxItems, array.count > maxItems { fail("expected at most \(maxItems) items, got \(array.count)") }
                if uniqueItems, Set(array.map(\.jsonText)).count != array.count { fail("items must be unique") }
                if let items {
                    for (index, item) in array.enumerated() {
                        path.components.append("[\(index)]")
                        items.check(item, path: &path, into: &found, limit: limit)
                        path.components.removeLast()
                    }
                }
            case .object(let object):
                for key in required where object[key] == nil {
                    if found.count < limit { found.append("\(path.name(with: key)): is required") }
                }
                if let minProperties, object.count < minProperties { fail("expected at least \(minProperties) properties") }
                if let maxProperties, object.count > maxProperties { fail("expected at most \(maxProperties) properties") }
                // In key order, so the problems come in one order whatever the dictionary's.
                let keys = object.count == 1 ? Array(object.keys) : object.keys.sorted()
                for key in keys {
                    let child = object[key]!
                    if let property = properties[key] {
                        path.components.append(key)
                        property.check(child, path: &path, into: &found, limit: limit)
                        path.components.removeLast()
                    } else {
                        switch additional {
                        case .absent: break
                        case .forbidden:
                            let known = properties.keys.sorted()
                            fail("unknown field '\(key)'" + (known.isEmpty ? "" : " (expected \(known.joined(separator: ", ")))"))
                        case .schema(let node):
                            path.components.append(key)
                            node.check(child, path: &path, into: &found, limit: limit)
                            path.components.removeLast()
                        }
                    }
                }
            default:
                break
            }
            if let anyOf, !anyOf.contains(where: { $0.accepts(value) }) { fail(anyOfMessage) }
            if let oneOf {
                let matching = oneOf.filter { $0.accepts(value) }.count
                if matching != 1 { fail(matching == 0 ? "does not match any allowed form" : "matches more than one allowed form") }
            }
            if let not, not.accepts(value) { fail(notMessage) }
        }

        static func describe(_ value: JSONValue) -> String {
            switch value {
            case .string(let s): return s.count > 40 ? "a string of \(s.count) characters" : "\"\(s)\""
            case .array(let a): return "an array of \(a.count)"
            case .object: return "an object"
            case .null: return "null"
            default: return value.jsonText
            }
        }

        static func matchesType(_ value: JSONValue, _ type: String) -> Bool {
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

        static func format(_ d: Double) -> String { d.rounded() == d && abs(d) < 9e15 ? String(Int(d)) : String(d) }

        /// JSON equality where 1 and 1.0 are the same number.
        static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
            if let x = a.doubleValue, let y = b.doubleValue { return x == y }
            return a == b
        }
    }
}
