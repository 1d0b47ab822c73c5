import Base
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one fetch in a child process (`agenthub git-fetch-worker`) and ends it at its wall-clock
/// deadline with SIGKILL. A hang or a crash inside libgit2 costs the child, never the host; the
/// child also dies with the host (PR_SET_PDEATHSIG), so nothing outlives the deadline.
public struct FetchSupervisor: Sendable {
    /// The `agenthub` executable to run as the worker.
    public var executable: String
    public var arguments: [String]

    public init(executable: String, arguments: [String] = ["git-fetch-worker"]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The running `agenthub` binary (`/proc/self/exe`), or `AGENTHUB_BINARY` when set (tests, which
    /// run inside the test runner rather than `agenthub`).
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> FetchSupervisor {
        if let path = environment["AGENTHUB_BINARY"], !path.isEmpty { return FetchSupervisor(executable: path) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return FetchSupervisor(executable: exe)
    }

    /// Fetches, blocking the calling thread (never call it on the cooperative pool) until the worker
    /// answers, fails, or is killed at `timeout` seconds.
    /// `started` gets the worker's pid (tests use it to show nothing outlives the deadline).
    public func fetch(_ request: FetchRequest, timeout: Double, progress: (FetchEvent) -> Void = { _ in },
                      started: (Int32) -> Void = { _ in }) throws(GitError) -> FetchOutcome {
        let where_ = Redaction.url(request.url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw GitError(.repository, "cannot start the fetch worker \(executable): \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        started(pid)
        let timedOut = LockedFlag()
        let killer = DispatchWorkItem {
            timedOut.set()
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)

        let stderrText = LockedBuffer()
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stderrText.append(errors.fileHandleForReading.readDataToEndOfFile().prefix(16_384))
            drained.signal()
        }
        if let request = try? JSONEncoder().encode(request) {
            try? input.fileHandleForWriting.write(contentsOf: request)
        }
        try? input.fileHandleForWriting.close()

        var last: FetchEvent?
        var pending = Data()
        let decoder = JSONDecoder()
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                guard let event = try? decoder.decode(FetchEvent.self, from: line) else { continue }
                if case .progress = event { progress(event) } else { last = event }
            }
        }
        process.waitUntilExit()
        killer.cancel()
        drained.wait()

        if timedOut.isSet {
            throw GitError(.timeout, "fetching \(where_) did not finish within its \(Self.seconds(timeout)) deadline; the fetch was stopped and the last good revision is still served")
        }
        switch last {
        case .finished(let outcome)?: return outcome
        case .failed(let kind, let message)?: throw GitError(kind, message)
        default:
            let how = process.terminationReason == .uncaughtSignal ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
            let detail = Redaction.removing(request.credentials.secrets, from: Redaction.text(stderrText.text.trimmingCharacters(in: .whitespacesAndNewlines)))
            throw GitError(.network, "the fetch worker for \(where_) \(how) before answering; the last good revision is still served" + (detail.isEmpty ? "" : ": \(detail.suffix(300))"))
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : String(format: "%.1fs", value)
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

final class LockedBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
