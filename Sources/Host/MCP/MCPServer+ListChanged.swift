import Base
import Foundation
import Plugins

/// What a client was last shown: enough to tell whether a list changed.
struct ListFingerprint: Equatable {
    var tools: [String]
    var skills: [String]
}

extension MCPServer {
    func toolsFingerprint() -> [String] {
        let (host, caller) = current
        return isRevoked ? [] : host.router.tools(for: caller).map { "\($0.descriptor.json.jsonText)|\($0.verdict.decision.rawValue)" }
    }

    func fingerprint() async -> ListFingerprint? {
        let tools = toolsFingerprint()
        guard let skills = try? await visibleSkills() else { return nil }
        return ListFingerprint(tools: tools, skills: skills.map { "\($0.name)|\($0.source)|\($0.digest)|\($0.revision)" })
    }

    /// Queues a list check after the ones already queued, so what the client was shown is updated in order.
    func queueListCheck(_ check: @escaping @Sendable () async -> Void) {
        lock.withLock {
            let previous = listCheck
            listCheck = Task {
                await previous?.value
                await check()
            }
        }
    }

    /// Waits for the list checks queued so far.
    func listChecksSettled() async {
        await lock.withLock { listCheck }?.value
    }

    func rememberLists() {
        queueListCheck {
            let now = await self.fingerprint()
            self.lock.withLock { self.lastSeen = now }
        }
    }

    /// Swaps in a new host (a reloaded manifest: other policies, plugins or roles) for calls that
    /// start from now on, and tells the client when what its role sees changed.
    public func replace(host: ToolHost, caller: ToolCaller? = nil) {
        observe(host.router)
        lock.withLock {
            self.host = host
            revoked = nil
            if let caller {
                let agent = baseCaller.agent
                baseCaller = caller
                if fixedAgent == nil { baseCaller.agent = agent }
            }
        }
        listsMayHaveChanged()
    }

    /// The session's role is gone from the reloaded manifest: the client is told (a `notifications/message`
    /// at error level, and `list_changed` for lists that are now empty), and its calls are refused
    /// until a reload brings the role back.
    public func revoke(host: ToolHost, reason: String) {
        observe(host.router)
        let already = lock.withLock { () -> Bool in
            self.host = host
            defer { revoked = reason }
            return revoked != nil
        }
        logger.warning("session role revoked by a reload", metadata: ["host.mcp.reason": "\(reason)"])
        if !already, lock.withLock({ phase == .initialized }) {
            send(.notification(method: "notifications/message", params: ["level": "error", "logger": "agenthub", "data": .string(reason)]))
        }
        listsMayHaveChanged()
    }

    var isRevoked: Bool { lock.withLock { revoked != nil } }

    /// Compares what the role sees now with what the client was last shown and sends
    /// `notifications/tools/list_changed`, `notifications/resources/list_changed` and
    /// `notifications/prompts/list_changed` for the lists that differ. Call it after a reload or a sync.
    public func listsMayHaveChanged() {
        queueListCheck { await self.compareLists() }
    }

    func compareLists() async {
        guard lock.withLock({ phase == .initialized }), let now = await fingerprint() else { return }
        let (before, toolsShown): (ListFingerprint?, Bool) = lock.withLock {
            let before = lastSeen
            // While the client's first list waits for bridged servers, a change of tools is no news
            // to it: that answer will show them.
            let waiting = listedTools && !toolsListAnswered
            lastSeen = waiting ? ListFingerprint(tools: before?.tools ?? now.tools, skills: now.skills) : now
            return (before, !waiting)
        }
        guard let before else { return }
        if toolsShown, before.tools != now.tools { send(.notification(method: "notifications/tools/list_changed", params: nil)) }
        if before.skills != now.skills {
            send(.notification(method: "notifications/resources/list_changed", params: nil))
            send(.notification(method: "notifications/prompts/list_changed", params: nil))
        }
    }
}
