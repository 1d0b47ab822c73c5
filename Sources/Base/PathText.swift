/// Lexical path handling on strings, with no Foundation path functions (some of `NSString`'s trap
/// on one-character paths, `./` and `~/` in this Foundation). Nothing here touches the disk.
/// Every function accepts any string, including "", "/", ".", "~" and strings with NUL bytes.
public enum PathText {
    /// The last component: `a/b/c` → `c`, `a/b/` → `b`, `/` → `/`, `` → ``.
    public static func lastComponent(_ path: String) -> String {
        let trimmed = trimTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// The folder part: `a/b/c` → `a/b`, `a` → ``, `/a` → `/`, `/` → `/`, `a//b` → `a`.
    /// Empty when the path has one relative component (callers use "." for it).
    public static func parent(_ path: String) -> String {
        let trimmed = trimTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        var folder = trimmed[..<slash]
        while folder.count > 1, folder.hasSuffix("/") { folder = folder.dropLast() }
        return folder.isEmpty ? "/" : String(folder)
    }

    /// `parent`, or "." when that is empty.
    public static func folder(of path: String) -> String {
        let folder = parent(path)
        return folder.isEmpty ? "." : folder
    }

    /// `base` and `path` joined with one slash; an absolute `path` is returned as it is.
    public static func join(_ base: String, _ path: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        if path.isEmpty { return base }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    /// `path` with empty and `.` components removed and `..` applied lexically (never above `/`
    /// for an absolute path; kept at the front of a relative one). Symlinks are not resolved.
    /// `` and `.` become `.`.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." { parts.removeLast(); continue }
                if absolute { continue }
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `path` resolved against `directory` and normalised; `~` and `~/…` expand to `home` when given.
    public static func resolve(_ path: String, against directory: String, home: String? = nil) -> String {
        var path = path
        if let home, !home.isEmpty, path == "~" || path.hasPrefix("~/") { path = home + path.dropFirst() }
        return normalize(join(directory, path))
    }

    /// The extension of the last component without its dot (`a/b.tar.gz` → `gz`); empty when the
    /// name has none or starts with its only dot (`.profile`).
    public static func pathExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    private static func trimTrailingSlashes(_ path: String) -> Substring {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
