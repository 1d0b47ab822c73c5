import Base
/// The remote ref a source's `ref:` selects among the refs a remote advertises.
public struct RefChoice: Sendable, Equatable {
    /// The full remote ref name (`refs/heads/main`, `refs/tags/v1.2.0`).
    public var remoteRef: String
    /// The object it points at (a commit, or an annotated tag).
    public var id: String
    /// The short name used in the revision (`main`, `v1.2.0`).
    public var label: String

    /// Chooses from `refs`; the error names the ref, the URL and what the remote does have.
    public static func choose(_ selector: RefSelector, from refs: [RemoteRef], url: String) throws(GitError) -> RefChoice {
        let where_ = Redaction.url(url)
        let branches = refs.filter { $0.name.hasPrefix("refs/heads/") }
        let tags = refs.filter { $0.name.hasPrefix("refs/tags/") && !$0.name.hasSuffix("^{}") }
        func names(_ list: [RemoteRef], _ prefix: String) -> String {
            let shown = list.prefix(10).map { String($0.name.dropFirst(prefix.count)) }
            return shown.isEmpty ? "none" : shown.joined(separator: ", ") + (list.count > 10 ? ", …" : "")
        }
        switch selector {
        case .remoteHead:
            let head = refs.first { $0.name == "HEAD" }
            if let target = head?.symrefTarget {
                guard let branch = branches.first(where: { $0.name == target }) else {
                    throw GitError(.notFound, "the HEAD of \(where_) names \(target), which does not exist (branches: \(names(branches, "refs/heads/")))")
                }
                return RefChoice(remoteRef: branch.name, id: branch.id, label: String(branch.name.dropFirst("refs/heads/".count)))
            }
            if let head {
                let branch = branches.first { $0.id == head.id }
                return RefChoice(remoteRef: branch?.name ?? "HEAD", id: head.id,
                                 label: branch.map { String($0.name.dropFirst("refs/heads/".count)) } ?? "HEAD")
            }
            if refs.isEmpty { throw GitError(.notFound, "\(where_) is empty: it has no branches") }
            throw GitError(.notFound, "the HEAD of \(where_) names a branch that does not exist (branches: \(names(branches, "refs/heads/"))); set ref: { branch: NAME }")
        case .branch(let name):
            guard let branch = branches.first(where: { $0.name == "refs/heads/" + name }) else {
                throw GitError(.notFound, "branch '\(name)' not found at \(where_) (branches: \(names(branches, "refs/heads/")))")
            }
            return RefChoice(remoteRef: branch.name, id: branch.id, label: name)
        case .tag(let name):
            guard let tag = tags.first(where: { $0.name == "refs/tags/" + name }) else {
                throw GitError(.notFound, "tag '\(name)' not found at \(where_) (tags: \(names(tags, "refs/tags/")))")
            }
            return RefChoice(remoteRef: tag.name, id: tag.id, label: name)
        case .semver(let text):
            let range = try SemverRange(text)
            let tagNames = tags.map { String($0.name.dropFirst("refs/tags/".count)) }
            guard let best = range.highest(of: tagNames), let tag = tags.first(where: { $0.name == "refs/tags/" + best.tag }) else {
                throw GitError(.notFound, "no tag at \(where_) matches semver '\(text)' (tags: \(names(tags, "refs/tags/")))")
            }
            return RefChoice(remoteRef: tag.name, id: tag.id, label: best.tag)
        case .commit(let id):
            return RefChoice(remoteRef: id, id: id, label: id)
        }
    }
}
