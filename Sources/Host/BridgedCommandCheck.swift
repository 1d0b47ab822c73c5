import Base
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether each bridged server's `command` can start as the bridge would start it: a path (with a
/// `/`, against the server's `cwd`) that exists, is a file and is executable, or a name found on the
/// `PATH` the server gets. `agenthub check` reports the ones that cannot at their line; loading the
/// manifest does not (a command installed later is the bridge's business, like a remote that is down).
public enum BridgedCommandCheck {
    public static func problems(in manifest: Manifest, environment: [String: String] = HostEnvironment.values) -> [ManifestDiagnostic] {
        (manifest.plugins.mcp?.servers ?? []).compactMap { server in
            guard let problem = problem(server, manifest: manifest, environment: environment) else { return nil }
            return ManifestDiagnostic(file: manifest.file, location: server.commandLocation ?? server.location, severity: .error,
                                      message: "plugins.mcp.servers.\(server.name).command: \(problem)")
        }
    }

    static func problem(_ server: MCPServerConfig, manifest: Manifest, environment: [String: String]) -> String? {
        let command = server.command
        guard !command.isEmpty else { return "is empty" }
        var cwd = manifest.resolve(server.cwd ?? ".")
        if !cwd.hasPrefix("/") { cwd = PathText.resolve(cwd, against: FileManager.default.currentDirectoryPath) }
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: cwd, isDirectory: &isFolder) || !isFolder.boolValue {
            return "its working folder \(cwd) (cwd) does not exist"
        }
        if command.contains("/") {
            let path = command.hasPrefix("/") ? command : PathText.resolve(command, against: cwd)
            return unusable(path).map { "'\(command)' (\(path)) \($0)" }
        }
        let searchPath = server.env["PATH"] ?? environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in searchPath.split(separator: ":") where !folder.isEmpty {
            let candidate = PathText.resolve(command, against: folder.hasPrefix("/") ? String(folder) : PathText.resolve(String(folder), against: cwd))
            if unusable(candidate) == nil { return nil }
        }
        return "'\(command)' is not found on the server's PATH (\(searchPath))"
    }

    /// Why `path` cannot be executed, or nil when it can.
    static func unusable(_ path: String) -> String? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return "does not exist" }
        if isFolder.boolValue { return "is a folder" }
        return access(path, X_OK) == 0 ? nil : "is not executable"
    }
}
