import ArgumentParser
import Foundation
import GitSync

/// The fetch worker: the host runs `agenthub git-fetch-worker` as a child process for every git
/// fetch and kills it at the sync deadline. It reads one request (JSON) on stdin and writes progress
/// and the outcome as JSON lines on stdout. Not meant to be run by hand.
struct GitFetchWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-fetch-worker",
        abstract: "Internal: run one git fetch for the sync scheduler (request on stdin).",
        shouldDisplay: false
    )

    func run() throws {
        let status = FetchWorker.main()
        if status != 0 { throw ExitCode(status) }
    }
}
