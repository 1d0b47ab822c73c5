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
        (manifest.plugins.mcp?.servers ?? []).filter { $0.remote == nil }.compactMap { server in
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
            if let problem = unusable(path) { return "'\(command)' (\(path)) \(problem)" }
        } else {
            let searchPath = server.env["PATH"] ?? environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            if locate(command, searchPath: searchPath, cwd: cwd) == nil { return "'\(command)' is not found on the server's PATH (\(searchPath))" }
        }
        // A sandbox needs bubblewrap on the host's PATH.
        if server.sandbox != nil, locate("bwrap", searchPath: environment["PATH"] ?? "/usr/bin:/bin", cwd: "/") == nil {
            return "its sandbox needs bubblewrap ('bwrap'), which is not on the host's PATH (Debian: apt-get install bubblewrap)"
        }
        return nil
    }

    /// Where `command` is: a path with a `/` (against `cwd`) or the first match on `searchPath`; nil
    /// when it is not there or cannot be executed.
    public static func locate(_ command: String, searchPath: String, cwd: String) -> String? {
        if command.contains("/") {
            let path = command.hasPrefix("/") ? command : PathText.resolve(command, against: cwd)
            return unusable(path) == nil ? path : nil
        }
        for folder in searchPath.split(separator: ":") where !folder.isEmpty {
            let candidate = PathText.resolve(command, against: folder.hasPrefix("/") ? String(folder) : PathText.resolve(String(folder), against: cwd))
            if unusable(candidate) == nil { return candidate }
        }
        return nil
    }

    /// Why `path` cannot be executed, or nil when it can.
    static func unusable(_ path: String) -> String? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return "does not exist" }
        if isFolder.boolValue { return "is a folder" }
        return access(path, X_OK) == 0 ? nil : "is not executable"
    }
}
