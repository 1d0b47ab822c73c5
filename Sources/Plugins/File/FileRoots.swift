import Base
import CShims
import Foundation
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// The folders the file tools may touch, each held open as a directory descriptor. Every open goes
/// through `openat2(RESOLVE_BENEATH)` relative to a root's descriptor, so the kernel itself refuses
/// `..`, absolute symlinks and symlink chains that would leave the root, at the moment of the open
/// (no window between a check and the open for a swapped symlink to slip through).
final class FileRoots: Sendable {
    struct Root: Sendable {
        /// The root as the manifest wrote it, resolved against the manifest's folder.
        let path: String
        /// Its real path (symlinks resolved), or nil when it does not exist.
        let realPath: String?
        let fd: Int32
        let problem: String?
    }

    let roots: [Root]

    /// Linux `O_PATH`: a descriptor for a path that opens nothing (not exported by Glibc's module).
    static let openPathOnly: Int32 = 0o10000000

    init(paths: [String]) {
        roots = paths.map { path in
            guard let real = realpath(path, nil) else {
                return Root(path: path, realPath: nil, fd: -1, problem: "file root \(path) is unusable: \(String(cString: strerror(errno)))")
            }
            let realPath = String(cString: real)
            free(real)
            let fd = Glibc.open(realPath, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                return Root(path: path, realPath: realPath, fd: -1, problem: "file root \(path) cannot be opened: \(String(cString: strerror(errno)))")
            }
            return Root(path: path, realPath: realPath, fd: fd, problem: nil)
        }
    }

    deinit {
        for root in roots where root.fd >= 0 { close(root.fd) }
    }

    var usable: [Root] { roots.filter { $0.fd >= 0 } }

    /// Where a requested path points: which root, and the path relative to it. Absolute paths must
    /// lie under a root; relative ones are tried against each root in order by the caller.
    func candidates(for requested: String) throws(ToolError) -> [(Root, String)] {
        if requested.utf8.contains(0) { throw ToolError(.forbidden, "path contains a NUL byte") }
        if requested.utf8.count > 4096 { throw ToolError(.invalidArguments, "path is longer than 4096 bytes") }
        let usable = self.usable
        if usable.isEmpty {
            throw ToolError(.unsupported, roots.isEmpty ? "no file roots are configured (plugins.file.roots)" : roots.compactMap(\.problem).joined(separator: "; "))
        }
        if requested.hasPrefix("/") {
            let standardized = PathText.normalize(requested)
            for root in usable {
                for base in [root.realPath ?? root.path, root.path] {
                    if standardized == base { return [(root, ".")] }
                    if standardized.hasPrefix(base + "/") { return [(root, String(standardized.dropFirst(base.count + 1)))] }
                }
            }
            throw ToolError(.forbidden, "'\(requested)' is outside the file roots")
        }
        let relative = requested.isEmpty ? "." : requested
        return usable.map { ($0, relative) }
    }

    /// Opens `relative` beneath `root`. Errors name the path and say why.
    static func openBeneath(_ relative: String, in dirfd: Int32, flags: Int32, mode: Int32 = 0, noSymlinks: Bool = false, display: String) throws(ToolError) -> Int32 {
        let fd = agenthub_open_beneath(dirfd, relative, flags, mode, noSymlinks ? 1 : 0)
        if fd >= 0 { return fd }
        throw error(errno, display)
    }

    static func error(_ code: Int32, _ display: String) -> ToolError {
        switch code {
        case ENOENT: return ToolError(.notFound, "'\(display)' does not exist")
        case EXDEV: return ToolError(.forbidden, "'\(display)' leaves the file roots (through '..', an absolute path or a symlink)")
        case ELOOP: return ToolError(.forbidden, "'\(display)' goes through a symlink that is not followed here, or too many symlinks")
        case ENOTDIR: return ToolError(.notFound, "'\(display)': a part of the path is not a folder")
        case EACCES, EPERM: return ToolError(.forbidden, "'\(display)': permission denied")
        case ENAMETOOLONG: return ToolError(.invalidArguments, "'\(display)': name too long")
        case EISDIR: return ToolError(.invalidArguments, "'\(display)' is a folder")
        case ENOSYS: return ToolError(.unsupported, "the kernel lacks openat2(2), which the file tools need for safe containment")
        default: return ToolError(.failed, "'\(display)': \(String(cString: strerror(code)))")
        }
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "file"
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symlink"
        case S_IFIFO: return "fifo"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        default: return "other"
        }
    }
}
