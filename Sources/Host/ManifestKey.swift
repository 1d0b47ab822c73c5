import Base
import Yams
import Plugins

/// One key of the manifest, defined once: its path, what it holds, its default, whether a running
/// host applies a change to it only after a restart, and one line of documentation. The decoder
/// reads the settings sections through these, the unknown-key suggestions and the restart-only
/// list come from them, and `registry.schema.json` and the README's settings table are generated
/// from them (`agenthub schema`).
public struct ManifestKey: Sendable {
    /// Dotted, with `[]` for a list's items and `*` for a name (`sources[].max_depth`, `agents.*.role`).
    public let path: String
    public let type: ManifestKeyType
    /// What the README shows as the default ("required", "off", "none", a value), "" when nothing.
    public let defaultText: String
    /// The default as JSON Schema states it (nil: none stated).
    public let defaultValue: JSONValue?
    /// A running host applies a change only when it restarts.
    public let restartOnly: Bool
    public let doc: String

    public init(_ path: String, _ type: ManifestKeyType, default defaultText: String = "", value defaultValue: JSONValue? = nil,
                restartOnly: Bool = false, _ doc: String) {
        self.path = path
        self.type = type
        self.defaultText = defaultText
        self.defaultValue = defaultValue
        self.restartOnly = restartOnly
        self.doc = doc
    }

    /// The last segment: the key as written in its mapping.
    public var name: String { String(path.split(separator: ".").last ?? Substring(path)) }
    /// The path of the mapping (or list item) that holds it ("" at the top).
    public var parent: String {
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }
    public var isRequired: Bool { defaultText == "required" }
    /// The shape of a list's items (`sources[]`), not a key of its own.
    public var isListItem: Bool { path.hasSuffix("[]") }
}

/// What a key holds.
public enum ManifestKeyType: Sendable {
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    /// `500ms`, `30s`, `15m`, `1h`, `1d`, or a sum (`1h30m`).
    case duration
    case boolean
    case text(pattern: String?)
    case choice([String])
    /// A mapping of further keys (the keys under it say what); `nullable`: `key:` alone enables it.
    case section(nullable: Bool = false)
    /// Anything else, as its JSON Schema says (lists, maps of names, one-of shapes); read by hand.
    case schema(JSONValue)

    public static let text = ManifestKeyType.text(pattern: nil)

    /// The range as the README says it ("1 to 64"), nil when it has none.
    var rangeText: String? {
        switch self {
        case .integer(let r): return r.upperBound >= Int.max / 2 ? "at least \(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)"
        case .number(let r): return "\(Self.number(r.lowerBound)) to \(Self.number(r.upperBound))"
        case .choice(let words): return words.joined(separator: ", ")
        default: return nil
        }
    }

    static func number(_ value: Double) -> String { value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value) }
}

/// A key of a settings section bound to its field: how the decoder reads it into `Root`, and what
/// the field holds by default (read from `Root()`, so the default is written once, in the struct).
struct Setting<Root>: Sendable {
    let name: String
    let type: ManifestKeyType
    let restartOnly: Bool
    let doc: String
    /// Reads the key's node into the section (problems go to the reader, with `path` in them).
    let read: @Sendable (ManifestReader, Node, String, inout Root) -> Void
    /// The field's value as JSON: its default in `Root()`, and what a reload compares.
    let value: @Sendable (Root) -> JSONValue

    static func integer(_ name: String, _ field: WritableKeyPath<Root, Int> & Sendable, _ range: ClosedRange<Int>,
                        restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .integer(range), restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.int(node, path, range: range) { root[keyPath: field] = v } },
                value: { .int($0[keyPath: field]) })
    }

    static func number(_ name: String, _ field: WritableKeyPath<Root, Double> & Sendable, _ range: ClosedRange<Double>,
                       restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .number(range), restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.double(node, path, range: range) { root[keyPath: field] = v } },
                value: { .double($0[keyPath: field]) })
    }

    static func duration(_ name: String, _ field: WritableKeyPath<Root, ManifestDuration> & Sendable,
                         restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .duration, restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.duration(node, path) { root[keyPath: field] = v } },
                value: { .string($0[keyPath: field].text) })
    }

    /// A duration kept by its owner as a Swift `Duration` (a plugin's settings).
    static func span(_ name: String, _ field: WritableKeyPath<Root, Duration> & Sendable, restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .duration, restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.duration(node, path) { root[keyPath: field] = v.duration } },
                value: { .string(ManifestDuration.text($0[keyPath: field])) })
    }

    /// A duration kept by its owner as seconds.
    static func seconds(_ name: String, _ field: WritableKeyPath<Root, Double> & Sendable, restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .duration, restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.duration(node, path) { root[keyPath: field] = v.seconds } },
                value: { .string(ManifestDuration.text(seconds: $0[keyPath: field])) })
    }

    static func boolean(_ name: String, _ field: WritableKeyPath<Root, Bool> & Sendable, restartOnly: Bool = false, _ doc: String) -> Setting {
        Setting(name: name, type: .boolean, restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.bool(node, path) { root[keyPath: field] = v } },
                value: { .bool($0[keyPath: field]) })
    }

    static func choice<T: RawRepresentable & CaseIterable & Sendable>(_ name: String, _ field: WritableKeyPath<Root, T> & Sendable,
                                                                      restartOnly: Bool = false, _ doc: String) -> Setting where T.RawValue == String {
        Setting(name: name, type: .choice(T.allCases.map(\.rawValue)), restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = r.choice(node, path, T.self) { root[keyPath: field] = v } },
                value: { .string($0[keyPath: field].rawValue) })
    }

    /// A mapping of tool names or globs to task modes (`router.task_tools`); a bad pattern or mode is
    /// an error at its line, and the rest are kept.
    static func taskModes(_ name: String, _ field: WritableKeyPath<Root, [String: TaskMode]> & Sendable, _ doc: String) -> Setting {
        let modes = TaskMode.allCases.map { JSONValue.string($0.rawValue) }
        return Setting(name: name, type: .schema(["type": "object", "additionalProperties": ["enum": .array(modes)]]), restartOnly: false, doc: doc,
                read: { r, node, path, root in
                    var read: [String: TaskMode] = [:]
                    for (pattern, key, value) in r.namedEntries(node, path) {
                        do throws(GlobError) { _ = try Glob(pattern) } catch {
                            r.error(key, "\(path) has a bad pattern: \(error.description)")
                            continue
                        }
                        if let mode = r.choice(value, "\(path).\(pattern)", TaskMode.self) { read[pattern] = mode }
                    }
                    root[keyPath: field] = read
                },
                value: { root in .object(root[keyPath: field].mapValues { .string($0.rawValue) }) })
    }

    /// A key whose reading checks more than its type (a file name, an address): `read` says how.
    static func custom(_ name: String, _ type: ManifestKeyType, _ field: WritableKeyPath<Root, String> & Sendable, restartOnly: Bool = false,
                       _ doc: String, read: @escaping @Sendable (ManifestReader, Node, String) -> String?) -> Setting {
        Setting(name: name, type: type, restartOnly: restartOnly, doc: doc,
                read: { r, node, path, root in if let v = read(r, node, path) { root[keyPath: field] = v } },
                value: { .string($0[keyPath: field]) })
    }
}

/// The settings of one mapping of the manifest (`http`, `plugins.memory`), bound to the struct
/// that holds them. `handRead` are keys of the mapping its decoder reads by hand (lists, maps).
struct SettingsSection<Root: Sendable>: Sendable {
    let path: String
    let settings: [Setting<Root>]
    let defaults: Root
    let handRead: [String]

    init(_ path: String, defaults: Root, handRead: [String] = [], _ settings: [Setting<Root>]) {
        self.path = path
        self.settings = settings
        self.defaults = defaults
        self.handRead = handRead
    }

    /// Reads every bound key present in `map` into `root`.
    func decode(_ map: [String: Node], _ r: ManifestReader, into root: inout Root) {
        for setting in settings {
            if let node = map[setting.name] { setting.read(r, node, "\(path).\(setting.name)", &root) }
        }
    }

    /// The keys as the table lists them, with their defaults.
    var keys: [ManifestKey] {
        settings.map { s in
            let value = s.value(defaults)
            return ManifestKey("\(path).\(s.name)", s.type, default: Self.text(value), value: value, restartOnly: s.restartOnly, s.doc)
        }
    }

    /// The restart-only keys whose value differs between two manifests' sections.
    func restartOnlyChanges(_ old: Root, _ new: Root) -> [String] {
        settings.filter { $0.restartOnly && $0.value(old) != $0.value(new) }.map { "\(path).\($0.name)" }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return ManifestKeyType.number(d)
        case .bool(let b): return b ? "true" : "false"
        default: return value.jsonText
        }
    }
}
