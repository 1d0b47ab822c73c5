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
        state.withLock { s in
            let previous = s.listCheck
            s.listCheck = Task {
                await previous?.value
                await check()
            }
        }
    }

    /// Waits for the list checks queued so far.
    func listChecksSettled() async {
        await state.withLock { s in s.listCheck }?.value
    }

    func rememberLists() {
        queueListCheck {
            let now = await self.fingerprint()
            self.state.withLock { s in s.lastSeen = now }
        }
    }

    /// Swaps in a new host (a reloaded manifest: other policies, plugins or roles) for calls that
    /// start from now on, and tells the client when what its role sees changed.
    public func replace(host: ToolHost, caller: ToolCaller? = nil) {
        observe(host.router)
        state.withLock { s in
            s.host = host
            s.revoked = nil
            if let caller {
                let agent = s.baseCaller.agent
                s.baseCaller = caller
                if fixedAgent == nil { s.baseCaller.agent = agent }
            }
        }
        listsMayHaveChanged()
    }

    /// The session's role is gone from the reloaded manifest: the client is told (a `notifications/message`
    /// at error level, and `list_changed` for lists that are now empty), and its calls are refused
    /// until a reload brings the role back.
    public func revoke(host: ToolHost, reason: String) {
        observe(host.router)
        let already = state.withLock { s -> Bool in
            s.host = host
            defer { s.revoked = reason }
            return s.revoked != nil
        }
        logger.warning("session role revoked by a reload", metadata: ["host.mcp.reason": "\(reason)"])
        if !already, state.withLock({ s in s.phase == .initialized }) {
            send(.notification(method: "notifications/message", params: ["level": "error", "logger": "agenthub", "data": .string(reason)]))
        }
        listsMayHaveChanged()
    }

    var isRevoked: Bool { state.withLock { s in s.revoked != nil } }

    /// Compares what the role sees now with what the client was last shown and sends
    /// `notifications/tools/list_changed`, `notifications/resources/list_changed` and
    /// `notifications/prompts/list_changed` for the lists that differ. Call it after a reload or a sync.
    public func listsMayHaveChanged() {
        queueListCheck { await self.compareLists() }
    }

    func compareLists() async {
        guard state.withLock({ s in s.phase == .initialized }), let now = await fingerprint() else { return }
        let (before, toolsShown): (ListFingerprint?, Bool) = state.withLock { s in
            let before = s.lastSeen
            // While the client's first list waits for bridged servers, a change of tools is no news
            // to it: that answer will show them.
            let waiting = s.listedTools && !s.toolsListAnswered
            s.lastSeen = waiting ? ListFingerprint(tools: before?.tools ?? now.tools, skills: now.skills) : now
            return (before, !waiting)
        }
        guard let before else { return }
        if toolsShown, before.tools != now.tools { tellListChanged("notifications/tools/list_changed") }
        if before.skills != now.skills {
            tellListChanged("notifications/resources/list_changed")
            tellListChanged("notifications/prompts/list_changed")
        }
    }
}
