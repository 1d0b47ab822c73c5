import Base
import Crypto
import Foundation

/// A downstream tool as the router sees it: `SERVER__TOOL`, with the downstream title, description,
/// schemas and annotations, and a risk that annotations can raise but never lower.
public struct BridgedTool: Sendable, Equatable {
    /// The server's own name for it (what `tools/call` sends downstream).
    public let downstreamName: String
    public let descriptor: ToolDescriptor
    /// SHA-256 of the definition as the server listed it (name, title, description, schemas,
    /// annotations): what pinning compares.
    public let digest: String

    /// The tools of one `tools/list` answer (all pages), and the problems with the ones left out. A
    /// tool left out never stops the others.
    static func map(_ listed: [JSONValue], server: BridgedServerSettings) -> (tools: [BridgedTool], problems: [String]) {
        var tools: [BridgedTool] = []
        var problems: [String] = []
        var seen: Set<String> = []
        let at = (server.location.map { "\($0): " } ?? "") + "plugins.mcp.servers.\(server.name)"
        for item in listed {
            guard let object = item.objectValue, case .string(let name)? = object["name"], !name.isEmpty else {
                problems.append("\(at): the server listed a tool without a name; it is not bridged")
                continue
            }
            let shown = name.utf8Prefix(128)
            if let allowed = server.tools, !allowed.contains(name) { continue }
            let full = server.name + BridgedServerSettings.separator + name
            guard full.count <= BridgedServerSettings.maxToolNameLength else {
                problems.append("\(at): tool '\(shown)' would be bridged as '\(full.utf8Prefix(128))', \(full.count) characters, over the \(BridgedServerSettings.maxToolNameLength) clients accept; it is not bridged")
                continue
            }
            guard isValidName(full) else {
                problems.append("\(at): tool '\(shown)' has characters clients reject (only letters, digits, '_' and '-'); it is not bridged")
                continue
            }
            guard seen.insert(name).inserted else {
                problems.append("\(at): the server listed tool '\(shown)' twice; only the first is bridged")
                continue
            }
            let schema = object["inputSchema"] ?? .null
            guard schema.objectValue != nil else {
                problems.append("\(at): tool '\(shown)' has no inputSchema object; it is not bridged")
                continue
            }
            let annotations = Self.annotations(object["annotations"])
            var risk = server.risk
            // Annotations come from the server: they may raise the risk, never lower it.
            if annotations.destructiveHint == true, annotations.readOnlyHint != true { risk = .high }
            let title = object["title"]?.stringValue ?? object["annotations"]?["title"]?.stringValue ?? name
            let descriptor = ToolDescriptor(
                name: full, title: title, description: object["description"]?.stringValue ?? "",
                inputSchema: schema, outputSchema: object["outputSchema"].flatMap { $0.objectValue != nil ? $0 : nil },
                annotations: annotations, risk: risk, timeout: server.timeout, tasks: Self.taskMode(object["execution"]?["taskSupport"]))
            tools.append(BridgedTool(downstreamName: name, descriptor: descriptor, digest: digest(of: item)))
        }
        if let allowed = server.tools {
            for name in allowed where !seen.contains(name) {
                problems.append("\(at).tools names '\(name)', which the server does not offer")
            }
        }
        return (tools, problems)
    }

    static func digest(of definition: JSONValue) -> String {
        var fields: [String: JSONValue] = [:]
        for key in ["name", "title", "description", "inputSchema", "outputSchema", "annotations"] {
            if let value = definition[key] { fields[key] = value }
        }
        return "sha256:" + SHA256.hash(data: Data(JSONValue.object(fields).jsonText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// What a tool says of tasks (`execution.taskSupport`, MCP 2025-11-25): one that requires them
    /// is always a task, one that forbids them never is; an optional one follows the manifest.
    static func taskMode(_ value: JSONValue?) -> TaskMode? {
        switch value?.stringValue {
        case "required": .always
        case "forbidden": .never
        default: nil
        }
    }

    static func annotations(_ value: JSONValue?) -> ToolAnnotations {
        func flag(_ key: String) -> Bool? { if case .bool(let b)? = value?[key] { return b }; return nil }
        return ToolAnnotations(readOnly: flag("readOnlyHint"), destructive: flag("destructiveHint"),
                               idempotent: flag("idempotentHint"), openWorld: flag("openWorldHint"))
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
