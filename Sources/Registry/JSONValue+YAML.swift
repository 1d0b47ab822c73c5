import Base
import Yams

extension JSONValue {
    /// The value as YAML would type it (YAML 1.1 core resolution, as Yams resolves tags).
    public init(yaml node: Node) {
        switch node {
        case .scalar(let scalar):
            let n = Node.scalar(scalar)
            switch node.tag.description {
            case Tag.Name.null.rawValue: self = .null
            case Tag.Name.bool.rawValue: self = n.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: self = n.int.map(JSONValue.int) ?? .string(scalar.string)
            case Tag.Name.float.rawValue:
                if let d = n.float, d.isFinite { self = .double(d) } else { self = .string(scalar.string) }
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.string ?? "\(key)"] = JSONValue(yaml: value) }
            self = .object(object)
        case .sequence(let sequence):
            self = .array(sequence.map { JSONValue(yaml: $0) })
        case .alias:
            self = .null
        }
    }
}
