import Foundation
@_exported import TestSupport
@testable import Host

/// The diagnostics a manifest text produces ("LINE:COL: message" each), or [] when it is valid.
func problems(_ yaml: String, environment: [String: String] = [:]) -> [String] {
    do {
        _ = try ManifestLoader.parse(yaml, file: "registry.yaml", environment: environment)
        return []
    } catch {
        return error.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
}
