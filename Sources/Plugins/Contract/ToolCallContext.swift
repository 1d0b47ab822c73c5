import Core
import Logging

/// Who is calling: an agent id, its role and group from the manifest.
public struct ToolCaller: Sendable, Hashable, CustomStringConvertible {
    public var agent: String
    public var role: String?
    public var group: String?
    /// Whether `role` is the lead of `group` (only the lead writes core memories to the blackboard).
    public var isGroupLead: Bool

    public init(agent: String, role: String? = nil, group: String? = nil, isGroupLead: Bool = false) {
        self.agent = agent
        self.role = role
        self.group = group
        self.isGroupLead = isGroupLead
    }

    public var description: String {
        "agent '\(agent)'" + (role.map { ", role '\($0)'" } ?? "") + (group.map { ", group '\($0)'" } ?? "")
    }
}

/// Questions a plugin asks about its caller that the host answers from the manifest.
/// Which skills the caller may see (`SkillViewer`) is asked of the skill catalog, never decided here.
public protocol CallerPermissions: SkillViewer {
    /// Whether a policy rule explicitly allows `action` (an action that is not a tool, such as
    /// `memory_write_global`); the policy default never counts.
    func explicitlyAllows(_ action: String) -> Bool
}

/// Permissions that allow everything: for in-process callers such as benchmarks and tests.
public struct UnrestrictedPermissions: CallerPermissions {
    public init() {}
    public func explicitlyAllows(_ action: String) -> Bool { true }
    public func canSeeSkill(name: String, source: String) -> Bool { true }
}

/// Everything a plugin knows about one call besides its arguments.
public struct ToolCallContext: Sendable {
    public var caller: ToolCaller
    public var session: String
    public var spanId: String
    public var logger: Logger
    public var permissions: any CallerPermissions
    /// Where progress goes when the caller asked for it (an MCP `progressToken`); nil otherwise.
    public var progress: ToolProgressSink?

    public init(caller: ToolCaller, session: String, spanId: String, logger: Logger, permissions: any CallerPermissions,
                progress: ToolProgressSink? = nil) {
        self.progress = progress
        self.caller = caller
        self.session = session
        self.spanId = spanId
        self.logger = logger
        self.permissions = permissions
    }

    /// Whether the call was cancelled (by the client, a timeout or shutdown).
    public var isCancelled: Bool { Task.isCancelled }

    /// Throws a `cancelled` tool error when the call was cancelled.
    public func checkCancellation() throws(ToolError) {
        if Task.isCancelled { throw ToolError(.cancelled, "the call was cancelled") }
    }
}

/// Receives a call's progress: how far it is, of how much when known, and a message.
public typealias ToolProgressSink = @Sendable (_ progress: Double, _ total: Double?, _ message: String?) -> Void

/// Rights that are not tools, which plugins check with `CallerPermissions.explicitlyAllows`. Only
/// a policy rule that names one exactly grants it: globs and the default never do.
public enum CallerActions {
    /// Write memories with `scope: global`.
    public static let memoryWriteGlobal = "memory_write_global"
    /// Export other agents' trace events with `export_trace` (by default a caller reads only its own).
    public static let exportTraceAll = "export_trace_all"
    public static let all: Set<String> = [memoryWriteGlobal, exportTraceAll]
}
