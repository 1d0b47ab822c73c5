import Base
import Registry

extension SkillRecord {
    /// The one JSON shape of a skill in a listing: the REST API, `--json` and the skills tools.
    public var summaryJSON: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "source": .string(source), "description": .string(description),
            "path": .string(path), "revision": .string(revision), "loadable": .bool(loadable), "strict": .bool(strict),
            "shadowed": .bool(shadowedBy != nil),
            "load_errors": .array(loadErrorList.map { .string($0) }), "strict_errors": .array(strictErrorList.map { .string($0) }),
            "warnings": .array(warningList.map { .string($0) }),
        ]
        if let license { o["license"] = .string(license) }
        if let compatibility { o["compatibility"] = .string(compatibility) }
        if let allowedTools { o["allowed_tools"] = .string(allowedTools) }
        if let metadata = metadata.flatMap({ JSONValue.parse($0) }) { o["metadata"] = metadata }
        return .object(o)
    }
}

extension SkillFileRecord {
    /// The one JSON shape of a skill's file in a listing.
    public var listingJSON: JSONValue {
        var f: [String: JSONValue] = ["path": .string(path), "kind": .string(kind.rawValue), "size": .int(Int(size)), "binary": .bool(isBinary)]
        if let linkTarget { f["link_target"] = .string(linkTarget) }
        return .object(f)
    }
}
