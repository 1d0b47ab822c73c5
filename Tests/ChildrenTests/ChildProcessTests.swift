import Children
import Foundation
import Testing

@Suite struct ChildProcessTests {
    @Test func theEnvironmentKeepsPathHomeAndLocaleAndAddsTheEntrysOwn() {
        let host = ["PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C", "GITHUB_TOKEN": "secret", "AWS_SECRET_ACCESS_KEY": "k"]
        let env = ChildEnvironment.filtered(host, adding: ["TZ": "UTC"])
        #expect(env == ["PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC"])
    }

    @Test func aChildReportsHowItExited() async throws {
        let child = try await ChildProcess.spawn(ChildCommand(executable: "/bin/sh", arguments: ["-c", "exit 7"], environment: ["PATH": "/bin"]),
                                                 lifeline: .none)
        #expect(await child.waitForExit(timeout: .seconds(30)) == .exited(7))
        for fd in [child.input, child.output, child.errors] { close(fd) }
    }

    @Test func stopEndsAChildThatIgnoresItsStdinWithSIGTERM() async throws {
        let child = try await ChildProcess.spawn(ChildCommand(executable: "sleep", arguments: ["60"], environment: ["PATH": "/usr/bin:/bin"]),
                                                 lifeline: .none)
        close(child.input)
        let exit = await child.stop(grace: .milliseconds(200))
        #expect(exit == .signaled(SIGTERM))
        #expect(exit.description.contains("SIGTERM"))
        for fd in [child.output, child.errors] { close(fd) }
    }

    @Test func aMissingProgramIsAnErrorThatNamesIt() async {
        await #expect(throws: ChildError.self) {
            _ = try await ChildProcess.spawn(ChildCommand(executable: "/nonexistent/program", environment: [:]), lifeline: .none)
        }
    }
}
