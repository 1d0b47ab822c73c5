import Base
import Foundation
import Plugins

/// What a client was last shown: enough to tell whether a list changed.
struct ListFingerprint: Equatable {
    var tools: [String]
    var skills: [String]
}

extension MCPServer {
    func fingerprint() -> ListFingerprint? {
        let (host, caller) = current
        let tools = host.router.tools(for: caller).map { "\($0.descriptor.json.jsonText)|\($0.verdict.decision.rawValue)" }
        guard let skills = try? visibleSkills() else { return nil }
        return ListFingerprint(tools: tools, skills: skills.map { "\($0.name)|\($0.source)|\($0.digest)|\($0.revision)" })
    }

    func rememberLists() {
        let now = fingerprint()
        lock.withLock { lastSeen = now }
    }

    /// Swaps in a new host (a reloaded manifest: other policies, plugins or roles) for calls that
    /// start from now on, and tells the client when what its role sees changed.
    public func replace(host: ToolHost, caller: ToolCaller? = nil) {
        lock.withLock {
            self.host = host
            if let caller {
                let agent = baseCaller.agent
                baseCaller = caller
                if fixedAgent == nil { baseCaller.agent = agent }
            }
        }
        listsMayHaveChanged()
    }

    /// Compares what the role sees now with what the client was last shown and sends
    /// `notifications/tools/list_changed`, `notifications/resources/list_changed` and
    /// `notifications/prompts/list_changed` for the lists that differ. Call it after a reload or a sync.
    public func listsMayHaveChanged() {
        guard lock.withLock({ phase == .initialized }), let now = fingerprint() else { return }
        let before: ListFingerprint? = lock.withLock {
            let before = lastSeen
            lastSeen = now
            return before
        }
        guard let before else { return }
        if before.tools != now.tools { send(.notification(method: "notifications/tools/list_changed", params: nil)) }
        if before.skills != now.skills {
            send(.notification(method: "notifications/resources/list_changed", params: nil))
            send(.notification(method: "notifications/prompts/list_changed", params: nil))
        }
    }
}

/// Finds a request's top-level `"id"` in the first bytes of a message too long to parse, so the
/// error for it can still be matched by its sender. Only an id at nesting depth one counts.
enum RequestIDSniffer {
    static func id(in prefix: [UInt8]) -> JSONRPCID? {
        var depth = 0
        var i = 0
        var inString = false
        var stringStart = 0
        var lastKey: String?
        while i < prefix.count {
            let b = prefix[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") {
                    inString = false
                    let text = String(decoding: prefix[stringStart..<i], as: UTF8.self)
                    var j = i + 1
                    while j < prefix.count, [0x20, 0x09, 0x0A, 0x0D].contains(prefix[j]) { j += 1 }
                    if depth == 1, j < prefix.count, prefix[j] == UInt8(ascii: ":") { lastKey = text; i = j + 1; continue }
                    if depth == 1, lastKey == "id" { return .string(text) }
                    lastKey = nil
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true; stringStart = i + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; lastKey = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if depth == 1, lastKey == "id" {
                    var j = i + 1
                    while j < prefix.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(prefix[j]) { j += 1 }
                    guard j < prefix.count, [UInt8(ascii: ","), UInt8(ascii: "}"), 0x20].contains(prefix[j]) else { return nil }
                    return Int(String(decoding: prefix[i..<j], as: UTF8.self)).map(JSONRPCID.int)
                }
            case UInt8(ascii: ","): lastKey = nil
            default: break
            }
            i += 1
        }
        return nil
    }
}
