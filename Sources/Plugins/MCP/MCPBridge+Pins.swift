import Base
import Foundation
import Registry

extension MCPBridge {
    /// Compares `tool` with its pin. A server's tools are pinned when the server is first seen
    /// (trust on first use); a tool that appears later is new to the pin, as a changed one is: an
    /// empty pin that waits for `agenthub tools accept`. Returns what the difference does to the
    /// tool, or nil when it matches.
    func pinCheck(_ tool: BridgedTool, server: BridgedServerSettings, stored: ToolPinRecord?, serverPinned: Bool) -> DefinitionChange? {
        let name = tool.descriptor.name
        let writable = registry.map { !$0.isReadOnly } ?? false
        let pinned: String
        if let known = stored?.digest ?? state.withLock({ $0.memoryPins[name] }) {
            pinned = known
        } else {
            // First seen with the server: pinned as it is. Added to a pinned server: pinned empty, to be accepted.
            pinned = serverPinned ? "" : tool.digest
            state.withLock { $0.memoryPins[name] = pinned }
            if writable { try? registry?.pinTool(name, server: server.name, digest: pinned) }
        }
        if pinned == tool.digest {
            if writable, stored?.changedDigest != nil { try? registry?.recordChangedDefinition(name, digest: nil) }
            return nil
        }
        let change: DefinitionChange = server.pin == .strict ? .blocked : .changed
        let isNew = state.withLock { $0.reported.insert("\(name) \(tool.digest)").inserted }
        if isNew {
            logger.warning(pinned.isEmpty ? "a bridged tool appeared after its server's tools were pinned" : "a bridged tool's definition changed since it was first seen", metadata: [
                "plugins.mcp.tool": "\(name)", "plugins.mcp.pinned": "\(pinned)", "plugins.mcp.now": "\(tool.digest)",
                "plugins.mcp.effect": "\(change == .blocked ? "blocked until `agenthub tools accept \(name)`" : "marked; still callable (pin: warn)")"])
            if writable, stored?.changedDigest != tool.digest {
                try? registry?.recordChangedDefinition(name, digest: tool.digest)
                trace(pinned.isEmpty ? "tool.added" : "tool.definition_changed", tool: name, decision: change.rawValue,
                      ["server": .string(server.name), "pinned": .string(pinned), "now": .string(tool.digest), "pin": .string(server.pin.rawValue)])
            }
        }
        return change
    }

    /// Tools whose names differ only in case (`Echo` beside `echo`): reported once each; the ones not
    /// accepted as they are (new, or changed) are held, whatever the pin mode, since a look-alike
    /// name is how a server slips a tool past a reader.
    func caseCollisions(_ names: [String]) -> Set<String> {
        var byFolded: [String: [String]] = [:]
        for name in names { byFolded[name.lowercased(), default: []].append(name) }
        var colliding: Set<String> = []
        for group in byFolded.values where group.count > 1 {
            colliding.formUnion(group)
            let key = "case " + group.sorted().joined(separator: " ")
            if state.withLock({ $0.reported.insert(key).inserted }) {
                logger.warning("bridged tools whose names differ only in case", metadata: ["plugins.mcp.tools": "\(group.sorted().joined(separator: ", "))"])
                trace("tool.name_collision", tool: group.sorted().first ?? "", decision: "blocked", ["tools": .array(group.sorted().map { .string($0) })])
            }
        }
        return colliding
    }

    /// Records a bridge event in the trace (session `bridge`, agent `host`), when the registry is writable.
    func trace(_ type: String, tool: String, decision: String, _ detail: JSONValue) {
        guard let registry, !registry.isReadOnly else { return }
        try? registry.appendTraceEvents([TraceEvent(at: TraceEvent.timestamp(), type: type, session: "bridge", spanId: TraceEvent.newSpanId(),
                                                    agent: "host", role: nil, group: nil, tool: tool, decision: decision, detail: detail)])
    }

    /// Records each server's status for `agenthub servers` (a separate process reads it), when it
    /// differs from what was last recorded.
    func recordStatus() {
        guard let registry, !registry.isReadOnly else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        for server in servers {
            guard let data = try? encoder.encode(server.currentStatus) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            guard state.withLock({ $0.recorded[server.name] }) != text else { continue }
            if (try? registry.recordBridgeServer(owner: SyncOwner.thisProcess, server: server.name, status: text)) != nil {
                state.withLock { $0.recorded[server.name] = text }
            }
        }
    }
}

extension BridgedServerStatus {
    /// Reads a status the bridge recorded.
    public static func decode(_ text: String) -> BridgedServerStatus? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(BridgedServerStatus.self, from: Data(text.utf8))
    }
}
