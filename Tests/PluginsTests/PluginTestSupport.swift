import Base
import Foundation
import Logging
@_exported import TestSupport
@testable import Plugins
import Registry

/// A call context for calling plugins directly.
func context(agent: String = "tester", role: String? = nil, group: String? = nil, lead: Bool = false,
             permissions: any CallerPermissions = ListedPermissions()) -> ToolCallContext {
    ToolCallContext(caller: ToolCaller(agent: agent, role: role, group: group, isGroupLead: lead), session: "test",
                    spanId: "span", logger: Logger(label: "test"), permissions: permissions)
}

/// Permissions that allow only the listed actions.
struct ListedPermissions: CallerPermissions {
    var actions: Set<String> = []
    func explicitlyAllows(_ action: String) -> Bool { actions.contains(action) }
    func canSeeSkill(name: String, source: String) -> Bool { true }
}

extension ToolPlugin {
    /// Calls a tool with JSON arguments given as a literal.
    func call(_ tool: String, _ arguments: JSONValue, _ context: ToolCallContext = context()) async throws -> ToolResult {
        try await call(tool, arguments: arguments.objectValue ?? [:], context: context)
    }
}
