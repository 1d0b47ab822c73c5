import Foundation
import Logging
import Testing
import TestSupport
@testable import HTTPFront

/// Skill bodies are rendered in a child: whatever the renderer does with a hostile body, the host
/// answers, and the page shows the body as text.
@Suite struct MarkdownWorkerTests {
    static let logger = Logger(label: "test")

    /// A stand-in renderer (a shell script) that does `behaviour` instead of rendering.
    func fakeRenderer(_ behaviour: String, in dir: String) throws -> String {
        let path = dir + "/fake-agenthub"
        // The worker runs it as `fake child-exec --parent PID -- fake render-markdown`: the script ignores that.
        try "#!/bin/sh\ncat >/dev/null\n\(behaviour)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func aRendererThatNeverAnswersIsKilledAtTheDeadlineAndTheBodyIsShownAsText() async throws {
        try await withTemporaryDirectory { dir in
            let worker = MarkdownWorker(executable: try fakeRenderer("exec sleep 600", in: dir), environment: [:], deadline: .seconds(1), logger: Self.logger)
            // It answers at all only because the child is killed: left alone it would sleep a minute.
            let result = await worker.html("# Title\n<script>x</script>")
            #expect(!result.rendered)
            #expect(result.html.hasPrefix("<pre class=\"plain-body\">") && result.html.contains("&lt;script&gt;"))
        }
    }

    @Test func aRendererThatCrashesCostsOnlyItsChild() async throws {
        try await withTemporaryDirectory { dir in
            let worker = MarkdownWorker(executable: try fakeRenderer("kill -SEGV $$", in: dir), environment: [:], logger: Self.logger)
            let result = await worker.html("- a\n  - b\n   ")
            #expect(!result.rendered && result.html.contains("- a"))
        }
    }

    @Test func theRealRendererRendersSanitisesAndRemembersByBody() async throws {
        // A deadline no busy machine reaches: these tests are about answers, never about time.
        let worker = MarkdownWorker(executable: agenthubBinary(), environment: ProcessInfo.processInfo.environment, deadline: .seconds(300), logger: Self.logger)
        let body = "# Title\n\nSome **bold** and <script>alert(1)</script>\n\n- a\n  - b\n   \n<p"
        let first = await worker.html(body)
        #expect(first.rendered, "\(first.html)")
        #expect(first.html.contains("<h1>Title</h1>") && first.html.contains("<strong>bold</strong>"))
        #expect(first.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !first.html.contains("<script"))
        #expect(first.html == SkillMarkdown.html(body), "the child and the in-process path agree")
        let again = await worker.html(body)
        #expect(again.html == first.html)
    }

    @Test func manyPagesAtOnceRunAtMostTwoRenderersAndAllAnswer() async throws {
        // A deadline no busy machine reaches: these tests are about answers, never about time.
        let worker = MarkdownWorker(executable: agenthubBinary(), environment: ProcessInfo.processInfo.environment, deadline: .seconds(300), logger: Self.logger)
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<12 { group.addTask { await worker.html("# Page \(i)\n\ntext \(i)").rendered } }
            var all: [Bool] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 12 && results.allSatisfy { $0 })
    }
}
