import Base
import Foundation
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// `file`: `read_file` and `list_files` under the configured roots, and `write_file`, which exists
/// only as a high-risk tool. Containment is enforced by the kernel (see `FileRoots`); fifos, devices
/// and sockets are refused; binary files are returned only when asked for as base64.
public struct FilePlugin: ToolPlugin {
    public struct Settings: Sendable {
        /// Root folders, already resolved against the manifest's folder.
        public var roots: [String]
        /// The most bytes one read returns (and one write accepts).
        public var maxBytes = 1 << 20
        /// Whether regular files with more than one link may be read in every root (off: a hard link
        /// can reach outside a root, and no path check can see it).
        public var allowHardLinks = false
        /// Roots (as in `roots`) where such files may be read.
        public var hardLinkRoots: Set<String> = []
        /// Directory entries one `list_files` call reads at most, matched or not.
        public var maxVisited = 20_000
        /// The most entries one listing returns.
        public var maxEntries = 2000
        public init(roots: [String]) { self.roots = roots }
    }

    public let name = "file"
    let settings: Settings
    let roots: FileRoots

    public init(settings: Settings) {
        self.settings = settings
        roots = FileRoots(paths: settings.roots)
    }

    /// Problems with the configured roots (a missing folder), for the host to log at start.
    public var rootProblems: [String] { roots.roots.compactMap(\.problem) }

    public var tools: [ToolDescriptor] { FileTools.descriptors(maxBytes: settings.maxBytes) }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        let args = ToolArguments(arguments)
        switch tool {
        case "read_file": return try read(args)
        case "list_files": return try list(args, context: context)
        case "write_file": return try write(args)
        default: throw ToolError(.notFound, "file has no tool '\(tool)'")
        }
    }

    /// Opens `requested` for reading in the first root that has it, refusing anything that is not a
    /// regular file. Returns the descriptor and its stat.
    func openRegularFile(_ requested: String) throws(ToolError) -> (fd: Int32, stat: stat) {
        var lastError = ToolError(.notFound, "'\(requested)' does not exist")
        for (root, relative) in try roots.candidates(for: requested) {
            // O_PATH first: it opens nothing, so a fifo does not block and a device sees no open.
            let probe: Int32
            do throws(ToolError) { probe = try FileRoots.openBeneath(relative, in: root.fd, flags: FileRoots.openPathOnly, display: requested) } catch {
                lastError = error
                if error.code == .notFound { continue } else { throw error }
            }
            defer { close(probe) }
            var first = stat()
            guard fstat(probe, &first) == 0 else { throw FileRoots.error(errno, requested) }
            let kind = FileRoots.kind(first.st_mode)
            if kind == "directory" { throw ToolError(.invalidArguments, "'\(requested)' is a folder; use list_files") }
            guard kind == "file" else { throw ToolError(.forbidden, "'\(requested)' is a \(kind), not a regular file") }
            let fd = try FileRoots.openBeneath(relative, in: root.fd, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, display: requested)
            var second = stat()
            guard fstat(fd, &second) == 0, second.st_dev == first.st_dev, second.st_ino == first.st_ino,
                  FileRoots.kind(second.st_mode) == "file" else {
                close(fd)
                throw ToolError(.forbidden, "'\(requested)' changed while it was being opened")
            }
            // Containment by path cannot see a hard link to a file outside the root.
            if second.st_nlink > 1, !settings.allowHardLinks, !settings.hardLinkRoots.contains(root.path) {
                close(fd)
                throw ToolError(.forbidden, "'\(requested)' is a hard link (\(second.st_nlink) names for one file) and may be a file outside the roots; a root written as {path: ..., allow_hard_links: true} allows such files")
            }
            return (fd, second)
        }
        throw lastError
    }
}
