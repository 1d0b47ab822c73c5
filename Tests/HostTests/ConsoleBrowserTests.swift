import Foundation
import Testing
import TestSupport

/// The console in a real browser: headless Chromium (Debian `chromium` and `chromium-driver`, which
/// `make test` installs) driven by Selenium from Tests/Interop/console_browser.py. It signs in,
/// searches and opens a skill, sees a skill's `<script>` stay inert, syncs as an admin, watches a tool
/// call's events arrive in the live tail, approves a waiting call, is refused without a CSRF token and
/// as a non-admin, and writes a screenshot of each page at desktop and phone width into
/// `.build/console-screenshots` (not committed).
@Suite(.serialized) struct ConsoleBrowserTests {
    @Test func theConsoleWorksInHeadlessChromium() async throws {
        let python = try #require(testPython(), "no test virtualenv: run `make test`")
        for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: program), "\(program) is missing: `make test` installs chromium and chromium-driver")
        }
        try await withTemporaryDirectory { dir in
            let host = try await ConsoleTests.start(dir)
            let shots = packageRoot + "/.build/console-screenshots"
            let result = try await run(python, [packageRoot + "/Tests/Interop/console_browser.py", String(host.port),
                                                host.keys["boss"]!, host.keys["reader"]!, host.keys["writer"]!, shots], in: dir)
            let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
            let failures = report["failures"] as? [String] ?? ["no report (exit \(result.status)): \(result.stderr.suffix(3000))"]
            #expect(result.status == 0 && failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr.suffix(1500))")
            let checks = report["checks"] as? [String] ?? []
            #expect(checks.count >= 30, "the browser ran \(checks.count) checks")
            let screenshots = report["screenshots"] as? [String] ?? []
            #expect(screenshots.count >= 18 && screenshots.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        }
    }
}
