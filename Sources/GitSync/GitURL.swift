import Base
import Foundation

/// Checks a source's repository URL before any fetch: https, http, ssh, git, file, scp-like
/// `user@host:path`, or a local path (relative ones against the manifest's folder).
public enum GitURL {
    static let schemes: Set<String> = ["https", "http", "ssh", "git", "file"]

    /// The URL to hand libgit2; a `config` error naming `source` when it cannot work as written.
    public static func check(_ url: String, resolvingPathsAgainst directory: String, source: String) throws(GitError) -> String {
        let shown = Redaction.url(url)
        guard !url.isEmpty else { throw GitError(.config, "\(source).git is empty") }
        guard !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) else {
            throw GitError(.config, "\(source).git '\(shown)' is not a URL: it contains spaces or control characters")
        }
        if let range = url.range(of: "://") {
            let scheme = url[..<range.lowerBound].lowercased()
            guard schemes.contains(scheme) else {
                throw GitError(.config, "\(source).git '\(shown)' has the unsupported scheme '\(scheme)' (use https, ssh, git, file or a path)")
            }
            let rest = url[range.upperBound...]
            if scheme != "file" {
                let authority = rest.prefix { $0 != "/" }
                let host = authority.split(separator: "@").last.map(String.init) ?? ""
                guard !host.isEmpty, URLComponents(string: url)?.host?.isEmpty == false else {
                    throw GitError(.config, "\(source).git '\(shown)' has no host")
                }
            }
            return url
        }
        if url.hasPrefix("//") {
            throw GitError(.config, "\(source).git '\(shown)' has no scheme; write https:, ssh: or git: before the //")
        }
        // scp-like ssh: user@host:path (a colon before any slash)
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), url[..<colon].count > 1 {
            return url
        }
        let path = url.hasPrefix("/") ? url : PathText.resolve(url, against: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GitError(.notFound, "\(source).git: the repository \(Redaction.text(path)) does not exist")
        }
        return path
    }
}
