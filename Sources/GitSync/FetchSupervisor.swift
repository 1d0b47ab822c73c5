import Base
import Children
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one fetch in a child process (`agenthub git-fetch-worker`, started with the Children helper)
/// and ends it at its wall-clock deadline with SIGKILL (to its process group: an ssh it started goes too). A hang or a crash inside libgit2 costs the child, never the host; the
/// child also dies with the host (PR_SET_PDEATHSIG), so nothing outlives the deadline.
public struct FetchSupervisor: Sendable {
    /// The `agenthub` executable to run as the worker.
    public var executable: String
    public var arguments: [String]
    /// The worker's environment: the host's without anything secret-looking (credentials come in the request).
    public var environment: [String: String]

    public init(executable: String, arguments: [String] = ["git-fetch-worker"],
                environment: [String: String] = HostEnvironment.values) {
        self.executable = executable
        self.arguments = arguments
        self.environment = ChildEnvironment.forWorker(environment)
    }

    /// The fetch worker run by `ChildCommand.agenthub`: this binary, or `AGENTHUB_BINARY` when set.
    public static func current(environment: [String: String] = HostEnvironment.values) -> FetchSupervisor {
        FetchSupervisor(executable: ChildCommand.agenthub(environment: environment), environment: environment)
    }

    /// Fetches, blocking the calling thread (never call it on the cooperative pool) until the worker
    /// answers, fails, or is killed at `timeout` seconds.
    /// `started` gets the worker's pid (tests use it to show nothing outlives the deadline).
    public func fetch(_ request: FetchRequest, timeout: Double, progress: (FetchEvent) -> Void = { _ in },
                      started: (Int32) -> Void = { _ in }) throws(GitError) -> FetchOutcome {
        let where_ = Redaction.url(request.url)
        // Spawned with the Children helper through `agenthub child-exec --parent PID`, which sets
        // PR_SET_PDEATHSIG and checks the host is still its parent before the worker runs (a host
        // killed in between cannot leave it behind); read here, on the calling thread.
        let command = ChildCommand(executable: executable, arguments: arguments, environment: environment)
        let spawned = Self.blocking { () -> Result<ChildProcess, ChildError> in
            do throws(ChildError) { return .success(try await ChildProcess.spawn(command, lifeline: .shim(executable: executable))) } catch { return .failure(error) }
        }
        let child: ChildProcess
        switch spawned {
        case .success(let value): child = value
        case .failure(let error): throw GitError(.repository, "cannot start the fetch worker \(executable): \(error.message)")
        }
        let pid = child.pid
        started(pid)
        let timedOut = LockedValue(false)
        let killer = DispatchWorkItem {
            timedOut.value = true
            child.signalGroup(SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)

        let stderrText = LockedValue(Data())
        let drained = DispatchSemaphore(value: 0)
        let errors = FileHandle(fileDescriptor: child.errors, closeOnDealloc: true)
        Thread.detachNewThread {
            let tail = errors.readDataToEndOfFile().prefix(16_384)
            stderrText.mutate { $0.append(tail) }
            drained.signal()
        }
        let input = FileHandle(fileDescriptor: child.input, closeOnDealloc: true)
        if let request = try? JSONEncoder().encode(request) {
            try? input.write(contentsOf: request)
        }
        try? input.close()

        var last: FetchEvent?
        var pending = Data()
        let decoder = JSONDecoder()
        let output = FileHandle(fileDescriptor: child.output, closeOnDealloc: true)
        while true {
            let chunk = output.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                guard let event = try? decoder.decode(FetchEvent.self, from: line) else { continue }
                if case .progress = event { progress(event) } else { last = event }
            }
        }
        try? output.close()
        let exit = Self.blocking { await child.waitForExit() ?? .signaled(SIGKILL) }
        killer.cancel()
        drained.wait()
        try? errors.close()

        if timedOut.value {
            throw GitError(.timeout, "fetching \(where_) did not finish within its \(Self.seconds(timeout)) deadline; the fetch was stopped and the last good revision is still served")
        }
        switch last {
        case .finished(let outcome)?: return outcome
        case .failed(let kind, let message)?: throw GitError(kind, message)
        default:
            let how = "\(exit)"
            let detail = Redaction.removing(request.credentials.secrets, from: Redaction.text(String(decoding: stderrText.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            throw GitError(.network, "the fetch worker for \(where_) \(how) before answering; the last good revision is still served" + (detail.isEmpty ? "" : ": \(detail.suffix(300))"))
        }
    }

    /// Runs async work to completion from a thread that may block (never the cooperative pool).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = LockedValue<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : String(format: "%.1fs", value)
    }
}
