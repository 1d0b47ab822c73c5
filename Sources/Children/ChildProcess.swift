import Base
import CShims
import Foundation
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A running child process with three pipes, started with swift-subprocess from the spawn thread.
///
/// The host ends of the pipes belong to the caller: write requests to `input`, read `output` and
/// `errors` (with `LineWriter`/`LineReader`, which close them when done). The child leads its own
/// process group, so `signal` reaches what it started too. With a `Lifeline`, the child is tied to the
/// host: it gets SIGKILL from the kernel the moment the host dies, even when the host is SIGKILLed.
public final class ChildProcess: Sendable {
    /// How a child is tied to the host's life.
    public enum Lifeline: Sendable, Equatable {
        /// Run the command directly (a child that ties itself, like the git fetch worker).
        case none
        /// Run it through `agenthub child-exec --parent PID -- COMMAND...` (this executable), which sets
        /// PR_SET_PDEATHSIG and then execs the command: the command itself dies with the host.
        case shim(executable: String)
    }

    public let pid: Int32
    public let command: ChildCommand
    /// Write end of the child's stdin.
    public let input: Int32
    /// Read end of the child's stdout.
    public let output: Int32
    /// Read end of the child's stderr.
    public let errors: Int32
    private let latch: OneShot<ChildExit>

    private init(pid: Int32, command: ChildCommand, input: Int32, output: Int32, errors: Int32, latch: OneShot<ChildExit>) {
        self.pid = pid
        self.command = command
        self.input = input
        self.output = output
        self.errors = errors
        self.latch = latch
    }

    /// Starts `command`. Throws when the program cannot be started; with a `.shim` lifeline a missing
    /// program is reported by the shim instead (on stderr, exit status 127).
    public static func spawn(_ command: ChildCommand, lifeline: Lifeline) async throws(ChildError) -> ChildProcess {
        // A child that exits while we write to its stdin must cost an EPIPE, never the host (SIGPIPE).
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        let stdin = try Pipe2(), stdout = try Pipe2(), stderr = try Pipe2()
        let (executable, arguments) = lifeline.wrap(command)
        // Raw `KEY=VALUE` entries must end with a NUL: swift-subprocess strdup()s them.
        let environment = Environment.custom(command.environment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) + [0] })
        var options = PlatformOptions()
        options.processGroupID = 0
        let latch = OneShot<ChildExit>()
        let started = OneShot<Result<Int32, SpawnFailure>>()
        let workingDirectory = command.workingDirectory.map { FilePath($0) }
        let program: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
        // Spawned from the one long-lived thread, so the kernel's parent-death signal is tied to the process.
        Task(executorPreference: SpawnThread.shared) {
            do {
                let result = try await Subprocess.run(
                    program, arguments: Arguments(arguments), environment: environment, workingDirectory: workingDirectory,
                    platformOptions: options,
                    input: .fileDescriptor(FileDescriptor(rawValue: stdin.read), closeAfterSpawningProcess: true),
                    output: .fileDescriptor(FileDescriptor(rawValue: stdout.write), closeAfterSpawningProcess: true),
                    error: .fileDescriptor(FileDescriptor(rawValue: stderr.write), closeAfterSpawningProcess: true)
                ) { execution in
                    started.set(.success(execution.processIdentifier.value))
                }
                switch result.terminationStatus {
                case .exited(let code): latch.set(.exited(code))
                case .signaled(let number): latch.set(.signaled(number))
                }
            } catch {
                started.set(.failure(SpawnFailure(message: "\(error)")))
                latch.set(.exited(127))
            }
        }
        switch await started.wait() ?? .failure(SpawnFailure(message: "the spawn was cancelled")) {
        case .success(let pid):
            return ChildProcess(pid: pid, command: command, input: stdin.write, output: stdout.read, errors: stderr.read, latch: latch)
        case .failure(let failure):
            for fd in [stdin.write, stdout.read, stderr.read] { close(fd) }
            throw ChildError(.spawn, "cannot start \(Redaction.text(command.executable)): \(failure.message)")
        }
    }

    /// How it ended, once it has.
    public var exit: ChildExit? { latch.current }

    /// Waits until it ends; nil when `timeout` passes first or the waiting task is cancelled.
    public func waitForExit(timeout: Duration? = nil) async -> ChildExit? {
        await latch.wait(timeout: timeout)
    }

    /// Sends `number` to the child's process group (the child and what it started), unless it has ended.
    public func signal(_ number: Int32) {
        guard latch.current == nil else { return }
        if kill(-pid, number) != 0 { kill(pid, number) }
    }

    /// Ends it the polite way: the caller has closed its stdin; after `grace` it gets SIGTERM, after
    /// another `grace` SIGKILL. Returns how it ended.
    public func stop(grace: Duration) async -> ChildExit {
        if let exit = await latch.wait(timeout: grace) { return exit }
        signal(SIGTERM)
        if let exit = await latch.wait(timeout: grace) { return exit }
        signal(SIGKILL)
        while true {
            if let exit = await latch.wait(timeout: .seconds(1)) { return exit }
            signal(SIGKILL)
        }
    }
}

extension ChildProcess.Lifeline {
    func wrap(_ command: ChildCommand) -> (String, [String]) {
        switch self {
        case .none: return (command.executable, command.arguments)
        case .shim(let shim):
            return (shim, ["child-exec", "--parent", String(getpid()), "--", command.executable] + command.arguments)
        }
    }
}

/// A pipe whose both ends are close-on-exec, so no other child inherits them by accident (one that
/// held another child's stdin open would keep it from ever seeing end of input).
private struct Pipe2 {
    let read: Int32
    let write: Int32

    init() throws(ChildError) {
        var fds: [Int32] = [0, 0]
        guard agenthub_pipe_cloexec(&fds) == 0 else { throw ChildError(.pipe, "cannot create a pipe: \(String(cString: strerror(errno)))") }
        read = fds[0]
        write = fds[1]
    }
}

/// Why swift-subprocess could not start a child.
private struct SpawnFailure: Error, Sendable {
    let message: String
}

extension ChildProcess {
    /// Sends `number` to the child's process group even after the child itself ended: what it
    /// started (and left holding its pipes) goes too. A group id is never reused while the group exists.
    public func signalGroup(_ number: Int32) {
        _ = kill(-pid, number)
    }
}
