import Base
import Children
import Foundation

/// A bridged server's command as bubblewrap (`bwrap`) runs it under `sandbox:`: a mount namespace
/// that holds the system's programs and libraries and a few files of `/etc` read-only, the
/// command's own files read-only (its program, the prefix it was installed in, a script it is given),
/// the manifest's `read:` paths read-only and `write:` paths read-write, a private `/tmp` (its `HOME`),
/// and nothing else: not the registry database, the key pepper or the git cache even inside a path
/// it was given, not the user's home unless listed. Its own process, IPC and host namespaces; under
/// `network: none` a network namespace with nothing on it. It dies with the host.
public enum BridgedSandbox {
    /// What a sandbox reads of the system: programs, libraries, their configuration.
    static let systemPaths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"]
    /// What it reads of `/etc` (never `shadow`, `ssh` host keys or `sudoers`); `python*` folders are added.
    static let etcPaths = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/ssl", "/etc/ca-certificates",
                           "/etc/ca-certificates.conf", "/etc/localtime", "/etc/timezone", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/hosts",
                           "/etc/resolv.conf", "/etc/gai.conf", "/etc/mime.types", "/etc/passwd", "/etc/group", "/etc/os-release", "/etc/debian_version"]

    /// What must stay out of a sandbox even inside a path it was given.
    public struct Protected: Sendable, Equatable {
        /// Files hidden (the registry database and its journals, the key pepper).
        public var files: [String] = []
        /// Folders hidden (the git cache).
        public var folders: [String] = []
        public init(files: [String] = [], folders: [String] = []) {
            self.files = files
            self.folders = folders
        }
    }

    /// `command` as `bwrap` runs it under `sandbox`. `bwrap` is looked up on the host's `PATH`.
    public static func wrap(_ command: ChildCommand, _ sandbox: SandboxConfig, protected: Protected,
                            hostPath: String = HostEnvironment.values["PATH"] ?? "/usr/bin:/bin") -> ChildCommand {
        // Every path bwrap binds is absolute (a relative one would land on the sandbox's root).
        let here = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { PathText.resolve(path, against: here) }
        let cwd = absolute(command.workingDirectory ?? "/")
        let sandbox = SandboxConfig(network: sandbox.network, read: sandbox.read.map(absolute), write: sandbox.write.map(absolute), location: sandbox.location)
        let protected = Protected(files: protected.files.map(absolute), folders: protected.folders.map(absolute))
        let searchPath = command.environment["PATH"] ?? hostPath
        let program = BridgedCommandCheck.locate(command.executable, searchPath: searchPath, cwd: cwd) ?? command.executable
        var arguments = ["--die-with-parent", "--unshare-all"]
        if sandbox.network == .full { arguments.append("--share-net") }
        arguments += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
        var bound: [String] = []
        func readOnly(_ path: String) {
            guard !bound.contains(path) else { return }
            bound.append(path)
            arguments += ["--ro-bind-try", path, path]
        }
        for path in systemPaths {
            // Merged /usr: /bin is a link to usr/bin, and stays one.
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                arguments += ["--symlink", target, path]
            } else if FileManager.default.fileExists(atPath: path) {
                readOnly(path)
            }
        }
        let pythonEtc = ((try? FileManager.default.contentsOfDirectory(atPath: "/etc")) ?? []).filter { $0.hasPrefix("python") }.sorted().map { "/etc/" + $0 }
        for path in etcPaths + pythonEtc where FileManager.default.fileExists(atPath: path) { readOnly(path) }
        // What it is given (where its program and a script's interpreter were installed, the files
        // named in its arguments, `read:` and `write:`), outer folders first: a path inside another
        // is mounted over it and keeps its own mode (read-only under a writable folder stays read-only).
        var given: [String: Bool] = [:]  // path: writable (a path both read and written is writable)
        for path in ownFolders(program) + command.arguments.filter({ $0.hasPrefix("/") && isFile($0) }) + sandbox.read where !bound.contains(path) {
            given[path] = given[path] ?? false
        }
        for path in sandbox.write { given[path] = true }
        let depth = { (path: String) in path.split(separator: "/").count }
        for (path, writable) in given.sorted(by: { depth($0.key) != depth($1.key) ? depth($0.key) < depth($1.key) : $0.key < $1.key }) {
            bound.append(path)
            arguments += writable ? ["--bind", path, path] : ["--ro-bind-try", path, path]
        }
        // Nothing of the registry, even inside a path given.
        for file in protected.files where isFile(file) && bound.contains(where: { inside(file, $0) }) {
            arguments += ["--ro-bind", "/dev/null", file]
        }
        for folder in protected.folders where bound.contains(where: { inside(folder, $0) }) && FileManager.default.fileExists(atPath: folder) {
            arguments += ["--tmpfs", folder]
        }
        let home = command.environment["HOME"]
        let homeGiven = home.map { home in bound.contains { inside(home, $0) } } ?? false
        arguments += ["--chdir", bound.contains(where: { inside(cwd, $0) }) && !systemPaths.contains(cwd) ? cwd : "/tmp"]
        arguments += ["--", program] + command.arguments
        var environment = command.environment
        if !homeGiven { environment["HOME"] = "/tmp" }
        environment["TMPDIR"] = "/tmp"
        let bwrap = BridgedCommandCheck.locate("bwrap", searchPath: hostPath, cwd: "/") ?? "bwrap"
        return ChildCommand(executable: bwrap, arguments: arguments, environment: environment, workingDirectory: command.workingDirectory)
    }

    /// The folders a program's files live in: the prefix it was installed in (the folder above its
    /// `bin`), or its own folder; for a script, its interpreter's too. System folders are bound already.
    static func ownFolders(_ program: String) -> [String] {
        var folders: [String] = []
        var candidates = [program]
        if let real = realPath(program) { candidates.append(real) }
        if let interpreter = interpreter(of: program) {
            candidates.append(interpreter)
            if let real = realPath(interpreter) { candidates.append(real) }
        }
        for path in candidates where path.hasPrefix("/") {
            if systemPaths.contains(where: { inside(path, $0) }) { continue }
            let parent = PathText.parent(path)
            let folder = PathText.lastComponent(parent) == "bin" ? PathText.parent(parent) : parent
            if folder != "/", !folders.contains(folder) { folders.append(folder) }
        }
        return folders
    }

    /// A script's interpreter (`#!/path/to/python3 -u` gives `/path/to/python3`).
    static func interpreter(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 256)) ?? Data()
        guard head.starts(with: Array("#!".utf8)) else { return nil }
        let line = String(decoding: head.dropFirst(2).prefix { $0 != 10 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let first = line.split(separator: " ").first, first.hasPrefix("/") else { return nil }
        return String(first)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        let text = String(cString: resolved)
        return text == path ? nil : text
    }

    static func isFile(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
    }

    /// Whether `path` is `folder` or inside it.
    static func inside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }
}
