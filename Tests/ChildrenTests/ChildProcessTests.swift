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

@Suite struct ChildEnvironmentTests {
    @Test func theChildSeesExactlyTheValuesGivenByteForByte() async throws {
        // Long and odd values: an entry passed without its terminating NUL would read past its end.
        var environment: [String: String] = ["PATH": "/usr/bin:/bin"]
        for i in 0..<40 { environment["VALUE_\(i)"] = String(repeating: "é/x", count: i * 7 + 1) }
        let child = try await ChildProcess.spawn(ChildCommand(executable: "/usr/bin/env", environment: environment), lifeline: .none)
        close(child.input)
        let output = FileHandle(fileDescriptor: child.output, closeOnDealloc: true).readDataToEndOfFile()
        _ = await child.waitForExit(timeout: .seconds(30))
        close(child.errors)
        var seen: [String: String] = [:]
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { seen[parts[0]] = parts[1] }
        }
        #expect(seen == environment)
    }
}
