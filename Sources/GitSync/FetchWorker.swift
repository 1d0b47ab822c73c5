import Base
import CLibGit2
import CShims
import Foundation

/// The fetch itself: what `agenthub git-fetch-worker` runs in a child process the host can kill at
/// its deadline (libgit2 1.5.1 has no network timeouts). Never called inside the host process.
public enum FetchWorker {
    /// Lists the remote's refs, chooses the source's ref, and downloads it into the cache repository's
    /// tracking ref unless the cache already has it. A pinned commit already in the cache needs no
    /// network at all.
    public static func fetch(_ request: FetchRequest, progress: @escaping (FetchEvent) -> Void) throws(GitError) -> FetchOutcome {
        git_libgit2_init()  // options need an initialized library; the worker process keeps it until it exits
        if let ca = request.credentials.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw GitError(.config, "ca_file \(ca) cannot be read") }
            guard agenthub_git_set_ca_file(ca) == 0 else { throw GitError.last(-1, "load ca_file \(ca)", request.url) }
        }
        let repository = try GitRepository.openOrInitBare(request.repository)
        let tracking = FetchRequest.trackingRef

        if case .commit(let id) = request.ref, let commit = repository.commit(matching: id) {
            if repository.target(of: tracking) != commit { try repository.setReference(tracking, to: commit) }
            return FetchOutcome(commit: commit, remoteRef: id, label: id, downloaded: false)
        }

        let session = try GitRemoteSession(repository: repository, url: request.url, credentials: request.credentials) { objects, total, bytes in
            progress(.progress(receivedObjects: objects, totalObjects: total, receivedBytes: bytes))
        }
        try session.connect()
        let refs = try session.list()

        if case .commit(let id) = request.ref {
            // A pin is not advertised by name: fetch every branch and tag, then look for it.
            try session.download(["+refs/heads/*:refs/agenthub/pin/heads/*", "+refs/tags/*:refs/agenthub/pin/tags/*"])
            guard let commit = repository.commit(matching: id) else {
                let count = refs.filter { $0.name.hasPrefix("refs/heads/") || $0.name.hasPrefix("refs/tags/") }.count
                throw GitError(.config, "pinned commit \(id) is not in \(Redaction.url(request.url)) (searched \(count) branches and tags)")
            }
            try repository.setReference(tracking, to: commit)
            return FetchOutcome(commit: commit, remoteRef: id, label: id, downloaded: true,
                                receivedObjects: session.state.received.objects, receivedBytes: session.state.received.bytes)
        }

        let choice = try RefChoice.choose(request.ref, from: refs, url: request.url)
        if repository.target(of: tracking) == choice.id, let commit = repository.commit(matching: choice.id) {
            return FetchOutcome(commit: commit, remoteRef: choice.remoteRef, label: choice.label, downloaded: false)
        }
        try session.download(["+\(choice.remoteRef):\(tracking)"])
        if repository.target(of: tracking) != choice.id { try repository.setReference(tracking, to: choice.id) }
        guard let commit = repository.commit(matching: choice.id) else {
            throw GitError(.validation, "\(choice.remoteRef) at \(Redaction.url(request.url)) does not point at a commit")
        }
        return FetchOutcome(commit: commit, remoteRef: choice.remoteRef, label: choice.label, downloaded: true,
                            receivedObjects: session.state.received.objects, receivedBytes: session.state.received.bytes)
    }

    /// The worker process's main: one request as a JSON line on stdin, events as JSON lines on stdout.
    /// Exits 0 after `finished`, 1 after `failed`.
    public static func main() -> Int32 {
        _ = agenthub_die_with_parent()
        let encoder = JSONEncoder()
        let out = FileHandle.standardOutput
        func emit(_ event: FetchEvent) {
            guard var data = try? encoder.encode(event) else { return }
            data.append(0x0A)
            out.write(data)
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let request = try? JSONDecoder().decode(FetchRequest.self, from: input) else {
            emit(.failed(kind: .repository, message: "the fetch worker could not read its request"))
            return 1
        }
        do {
            let outcome = try fetch(request, progress: emit)
            emit(.finished(outcome))
            return 0
        } catch {
            emit(.failed(kind: error.kind, message: Redaction.removing(request.credentials.secrets, from: error.message)))
            return 1
        }
    }
}
