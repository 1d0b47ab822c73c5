import ArgumentParser
import CShims
import Foundation

/// The shim every bridged MCP server is started through: ties the process to the host with
/// PR_SET_PDEATHSIG (the kernel SIGKILLs it when the host dies, however the host dies), then execs
/// the server in its place, with an empty signal mask and default signal dispositions. Not meant
/// to be run by hand.
struct ChildExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "child-exec",
        abstract: "Internal: run a command that dies with the host process.",
        shouldDisplay: false
    )

    @Option(name: .long, help: "The host's pid: the command is killed when it exits.")
    var parent: Int32

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func run() throws {
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = argv.first else {
            FileHandle.standardError.write(Data("agenthub child-exec: no command given\n".utf8))
            throw ExitCode(64)
        }
        if agenthub_die_with(parent) != 0 {
            FileHandle.standardError.write(Data("agenthub child-exec: the host (pid \(parent)) is gone; not starting \(program)\n".utf8))
            throw ExitCode(1)
        }
        // The host blocks and ignores signals it handles itself; the server gets a clean slate, so
        // SIGTERM at shutdown and its own SIGALRM timers work.
        if agenthub_reset_signals() != 0 {
            FileHandle.standardError.write(Data("agenthub child-exec: cannot reset the signal mask: \(String(cString: strerror(errno)))\n".utf8))
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        execvp(program, cArgs)
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data("agenthub child-exec: cannot run '\(program)': \(reason)\n".utf8))
        throw ExitCode(127)
    }
}
