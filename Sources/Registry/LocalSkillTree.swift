import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A skill source that is a directory on disk. Reads never follow symlinks and never leave the root.
public struct LocalSkillTree: SkillTree {
    public let root: String
    public let displayName: String
    private let realRoot: String

    /// The root with symlinks resolved.
    public var resolvedRoot: String { realRoot }

    /// Opens `root`; fails with a message naming the path when it is missing or not a directory.
    public init(root: String, displayName: String? = nil) throws(RegistryError) {
        var info = stat()
        guard stat(root, &info) == 0 else {
            throw RegistryError(.io, "skill source directory \(root) does not exist")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw RegistryError(.io, "skill source \(root) is not a directory")
        }
        guard let resolved = realpath(root, nil) else {
            throw RegistryError(.io, "cannot resolve skill source directory \(root)")
        }
        self.realRoot = String(cString: resolved)
        free(resolved)
        self.root = root
        self.displayName = displayName ?? root
    }

    private func absolute(_ path: String) -> String {
        path.isEmpty ? realRoot : realRoot + "/" + path
    }

    public func entries(in directory: String) throws(RegistryError) -> [TreeEntry] {
        let base = absolute(directory)
        guard let dir = opendir(base) else {
            throw RegistryError(.io, "cannot list \(displayName)/\(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var result: [TreeEntry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            let full = base + "/" + name
            guard lstat(full, &info) == 0 else { continue }
            var item = TreeEntry(name: name, kind: .other, size: Int64(info.st_size))
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                item.kind = .file
                item.fingerprint = "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            case S_IFDIR: item.kind = .directory
            case S_IFLNK:
                item.kind = .symlink
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlink(full, &buffer, Int(PATH_MAX))
                if count >= 0 {
                    item.linkTarget = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            default: item.kind = .other
            }
            result.append(item)
        }
        return result.sorted { $0.name < $1.name }
    }

    public func contents(of path: String, limit: Int) throws(RegistryError) -> Data {
        let full = absolute(path)
        let fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symlink, and symlinks are never followed" : String(cString: strerror(errno))
            throw RegistryError(.io, "cannot read \(displayName)/\(path): \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw RegistryError(.io, "cannot read \(displayName)/\(path): not a regular file")
        }
        // A hard link is the same file as another name, possibly outside the source: a path check cannot see that.
        guard info.st_nlink <= 1 else {
            throw RegistryError(.io, "cannot read \(displayName)/\(path): it is a hard link (\(info.st_nlink) names for one file), which may reach a file outside the source; hard links are not read")
        }
        // An intermediate directory swapped for a symlink after listing must not lead outside the root.
        if let resolved = realpath(full, nil) {
            let real = String(cString: resolved)
            free(resolved)
            guard real.hasPrefix(realRoot + "/") else {
                throw RegistryError(.io, "cannot read \(displayName)/\(path): it resolves outside the source")
            }
        }
        let wanted = min(limit, Int(info.st_size))
        var data = Data(count: wanted)
        var total = 0
        while total < wanted {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, wanted - total) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            total += n
        }
        if total < wanted { data.count = total }
        return data
    }
}
