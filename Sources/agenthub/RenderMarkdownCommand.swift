import ArgumentParser
import HTTPFront

/// The Markdown renderer: the console runs `agenthub render-markdown` as a child process for each
/// skill body it has not rendered yet, and kills it at a deadline (a hostile body costs the child,
/// never the host). Reads the body on stdin, writes HTML on stdout. Not meant to be run by hand.
struct RenderMarkdownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-markdown",
        abstract: "Internal: render one skill body's Markdown for the web console (body on stdin).",
        shouldDisplay: false
    )

    func run() throws {
        let status = MarkdownRenderCommand.main()
        if status != 0 { throw ExitCode(status) }
    }
}
