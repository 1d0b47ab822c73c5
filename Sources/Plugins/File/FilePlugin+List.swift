import Base
import Foundation
import Registry
#if canImport(Glibc)
import Glibc
#endif

extension FilePlugin {
    func list(_ args: ToolArguments, context: ToolCallContext) throws -> ToolResult {
        let path = try args.optionalString("path") ?? "."
        let depth = try args.optionalInt("depth", in: 1...10) ?? 1
        let pattern: Glob?
        if let text = try args.optionalString("pattern") {
            do { pattern = try Glob(text) } catch { throw ToolError(.invalidArguments, "pattern: \(error.description)") }
        } else { pattern = nil }
        var lastError = ToolError(.notFound, "'\(path)' does not exist")
        for (root, relative) in try roots.candidates(for: path) {
            let fd: Int32
            do throws(ToolError) { fd = try FileRoots.openBeneath(relative, in: root.fd, flags: O_RDONLY | O_DIRECTORY, display: path) } catch {
                lastError = error
                if error.code == .notFound { continue }
                throw error
            }
            var walk = Walk()
            let prefix = relative == "." ? "" : (relative.hasSuffix("/") ? relative : relative + "/")
            try self.walk(fd, prefix: prefix, depth: depth, pattern: pattern, into: &walk, context: context)
            var text = walk.entries.compactMap { e -> String? in
                guard let p = e["path"]?.stringValue, let t = e["type"]?.stringValue else { return nil }
                return t == "directory" ? p + "/" : p
            }.joined(separator: "\n")
            var result: [String: JSONValue] = ["path": .string(path), "root": .string(root.path), "entries": .array(walk.entries),
                                               "truncated": .bool(walk.truncated != nil), "visited": .int(walk.visited)]
            if let reason = walk.truncated {
                result["truncated_reason"] = .string(reason)
                text += (text.isEmpty ? "" : "\n") + "(truncated: \(reason))"
            }
            return .structured(.object(result), text: text.isEmpty ? "(empty)" : text)
        }
        throw lastError
    }

    /// Lists `dirfd` (which this function closes), descending `depth - 1` more levels. Symlinks are
    /// listed, never followed.
    private func walk(_ dirfd: Int32, prefix: String, depth: Int, pattern: Glob?, into walk: inout Walk,
                      context: ToolCallContext) throws {
        guard let dir = fdopendir(dirfd) else {
            close(dirfd)
            throw FileRoots.error(errno, prefix)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name == "." || name == ".." { continue }
            // Every entry read counts, matched or not: a pattern that matches nothing still stops.
            walk.visited += 1
            if walk.visited > settings.maxVisited {
                walk.truncated = "stopped after visiting \(settings.maxVisited) entries; list a narrower path or a smaller depth"
                break
            }
            names.append(name)
            if walk.visited % 1024 == 0 { try context.checkCancellation() }
        }
        for name in names.sorted() {
            try context.checkCancellation()
            if walk.entries.count >= settings.maxEntries {
                walk.truncated = walk.truncated ?? "stopped at \(settings.maxEntries) entries"
                return
            }
            var info = stat()
            guard fstatat(dirfd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind = FileRoots.kind(info.st_mode)
            if pattern == nil || pattern!.matches(name) {
                var e: [String: JSONValue] = ["path": .string(prefix + name), "type": .string(kind)]
                if kind == "file" { e["size"] = .int(Int(info.st_size)) }
                walk.entries.append(.object(e))
            }
            if kind == "directory", depth > 1, walk.truncated == nil {
                let child = openChildFolder(dirfd, name)
                if child >= 0 {
                    try self.walk(child, prefix: prefix + name + "/", depth: depth - 1, pattern: pattern, into: &walk, context: context)
                }
            }
        }
    }

    func write(_ args: ToolArguments) throws -> ToolResult {
        let path = try args.string("path")
        let content = try args.string("content")
        let bytes = Array(content.utf8)
        if bytes.count > settings.maxBytes {
            throw ToolError(.tooLarge, "content: \(bytes.count) bytes is over the limit of \(settings.maxBytes) (plugins.file.max_bytes)")
        }
        if path.utf8.contains(0) { throw ToolError(.forbidden, "path contains a NUL byte") }
        let folder = PathText.parent(path)
        let name = PathText.lastComponent(path)
        guard !name.isEmpty, name != ".", name != "..", !path.hasSuffix("/") else {
            throw ToolError(.invalidArguments, "path: '\(path)' does not name a file")
        }
        var lastError = ToolError(.notFound, "the folder of '\(path)' does not exist")
        for (root, relative) in try roots.candidates(for: folder.isEmpty ? "." : folder) {
            let dirfd: Int32
            do throws(ToolError) { dirfd = try FileRoots.openBeneath(relative, in: root.fd, flags: O_RDONLY | O_DIRECTORY, display: folder.isEmpty ? "." : folder) } catch {
                lastError = error
                if error.code == .notFound { continue } else { throw error }
            }
            defer { close(dirfd) }
            var existing = stat()
            if fstatat(dirfd, name, &existing, AT_SYMLINK_NOFOLLOW) == 0, FileRoots.kind(existing.st_mode) != "file" {
                throw ToolError(.forbidden, "'\(path)' is a \(FileRoots.kind(existing.st_mode)); write_file only replaces regular files")
            }
            let temporary = ".\(name).agenthub-\(UInt32.random(in: 0...UInt32.max))"
            let fd = openat(dirfd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd < 0 { throw FileRoots.error(errno, path) }
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { let code = errno; close(fd); unlinkat(dirfd, temporary, 0); throw FileRoots.error(code, path) }
                written += n
            }
            fsync(fd)
            close(fd)
            if renameat(dirfd, temporary, dirfd, name) != 0 {
                let code = errno
                unlinkat(dirfd, temporary, 0)
                throw FileRoots.error(code, path)
            }
            return .structured(["path": .string(path), "size": .int(bytes.count)], text: "wrote \(bytes.count) bytes to \(path)")
        }
        throw lastError
    }
}

/// What a listing has found so far.
struct Walk {
    var entries: [JSONValue] = []
    /// Directory entries read, whether they matched or not.
    var visited = 0
    /// Why the listing stopped early, if it did.
    var truncated: String?
}

/// Opens a child folder of `dirfd` without following a symlink.
private func openChildFolder(_ dirfd: Int32, _ name: String) -> Int32 {
    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
}
