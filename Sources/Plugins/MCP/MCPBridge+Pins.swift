import Base
import Foundation
import Registry

extension MCPBridge {
    /// Compares `tool` with its pin (pinning it when first seen). Returns what a changed definition
    /// does to it, or nil when it matches.
    func pinCheck(_ tool: BridgedTool, server: BridgedServerSettings, stored: ToolPinRecord?) -> DefinitionChange? {
        let name = tool.descriptor.name
        let writable = registry.map { !$0.isReadOnly } ?? false
        let pinned: String? = stored?.digest ?? lock.withLock { memoryPins[name] }
        guard let pinned else {
            lock.withLock { memoryPins[name] = tool.digest }
            if writable { try? registry?.pinTool(name, server: server.name, digest: tool.digest) }
            return nil
        }
        if pinned == tool.digest {
            if writable, stored?.changedDigest != nil { try? registry?.recordChangedDefinition(name, digest: nil) }
            return nil
        }
        let change: DefinitionChange = server.pin == .strict ? .blocked : .changed
        let isNew = lock.withLock { reported.insert("\(name) \(tool.digest)").inserted }
        if isNew {
            logger.warning("a bridged tool's definition changed since it was first seen", metadata: [
                "plugins.mcp.tool": "\(name)", "plugins.mcp.pinned": "\(pinned)", "plugins.mcp.now": "\(tool.digest)",
                "plugins.mcp.effect": "\(change == .blocked ? "blocked until `agenthub tools accept \(name)`" : "marked; still callable (pin: warn)")"])
            if writable, stored?.changedDigest != tool.digest {
                try? registry?.recordChangedDefinition(name, digest: tool.digest)
                try? registry?.appendTraceEvents([TraceEvent(
                    at: TraceEvent.timestamp(), type: "tool.definition_changed", session: "bridge", spanId: TraceEvent.newSpanId(),
                    agent: "host", role: nil, group: nil, tool: name, decision: change.rawValue,
                    detail: ["server": .string(server.name), "pinned": .string(pinned), "now": .string(tool.digest),
                             "pin": .string(server.pin.rawValue)])])
            }
        }
        return change
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
            guard lock.withLock({ recorded[server.name] }) != text else { continue }
            if (try? registry.recordBridgeServer(owner: SyncOwner.thisProcess, server: server.name, status: text)) != nil {
                lock.withLock { recorded[server.name] = text }
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
