import Base
import Children
import Crypto
import Foundation
import Host
import Ink
import Logging

/// Renders a skill's Markdown in a child process (`agenthub render-markdown`), because the body is
/// written by whoever publishes a repository and Ink is not hardened against it: fuzzing found inputs
/// on which it traps (a list whose last line is only spaces) and inputs on which it loops forever,
/// growing without bound (`<p` at the end). In a child, such a body costs that child: it is killed at
/// the deadline, the page shows the body as plain text, and the host serves on. Answers are kept by
/// the body's digest, so a skill is rendered once per body, and at most `parallel` children run at once.
final class MarkdownWorker: Sendable {
    let executable: String
    let environment: [String: String]
    let deadline: Duration
    let logger: Logger
    private let cache = LockedValue<(order: [String], html: [String: Rendered])>(([], [:]))
    private let slots: DispatchSemaphore
    static let cacheSize = 256
    /// The most HTML a child may answer with (a body is at most `SkillMarkdown.maxRenderedBytes`).
    static let maxOutputBytes = 8 << 20

    struct Rendered: Sendable {
        let html: String
        /// False when the body is shown as text because rendering failed.
        let rendered: Bool
        var at = ContinuousClock.now
    }
    /// A failure is kept this long, then tried again: it may have been a busy machine, not the body.
    static let retryFailuresAfter: Duration = .seconds(60)

    init(executable: String, environment: [String: String], deadline: Duration = .seconds(10), parallel: Int = 2, logger: Logger) {
        self.executable = executable
        self.environment = ChildEnvironment.filtered(environment)
        self.deadline = deadline
        self.logger = logger
        slots = DispatchSemaphore(value: parallel)
    }

    /// The renderer run by `ChildCommand.agenthub`: this binary, or `AGENTHUB_BINARY` when set.
    static func standard(environment: [String: String], logger: Logger) -> MarkdownWorker {
        MarkdownWorker(executable: ChildCommand.agenthub(environment: environment), environment: environment, logger: logger)
    }

    /// The body as sanitised HTML; as escaped text when it is too large or the child fails.
    func html(_ markdown: String) async -> Rendered {
        guard markdown.utf8.count <= SkillMarkdown.maxRenderedBytes else { return Rendered(html: SkillMarkdown.plain(markdown), rendered: false) }
        let key = SHA256.hash(data: Data(markdown.utf8)).map { String(format: "%02x", $0) }.joined()
        if let hit = cache.value.html[key], hit.rendered || ContinuousClock.now - hit.at < Self.retryFailuresAfter { return hit }
        let output = await render(markdown)
        let result = output.map { Rendered(html: HTMLSanitizer.clean($0), rendered: true) }
            ?? Rendered(html: SkillMarkdown.plain(markdown), rendered: false)
        cache.mutate { cache in
            if cache.html[key] == nil { cache.order.append(key) }
            cache.html[key] = result
            while cache.order.count > Self.cacheSize { cache.html[cache.order.removeFirst()] = nil }
        }
        return result
    }

    /// Ink's HTML from a child, or nil (with the reason logged) when it cannot give one in time.
    private func render(_ markdown: String) async -> String? {
        let slots = self.slots
        await onThread { slots.wait() }
        defer { slots.signal() }
        let command = ChildCommand(executable: executable, arguments: ["render-markdown"], environment: environment)
        let child: ChildProcess
        do throws(ChildError) { child = try await ChildProcess.spawn(command, lifeline: .shim(executable: executable)) } catch {
            logger.warning("cannot start the Markdown renderer", metadata: ["executable": "\(executable)", "error": "\(error.message)"])
            return nil
        }
        // The deadline is kept by a dispatch timer, not a task: a busy cooperative pool cannot delay it.
        let killer = DispatchWorkItem { child.signalGroup(SIGKILL) }
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: killer)
        let input = Data(SkillMarkdown.guarded(markdown).utf8)
        async let wrote: Void = onThread {
            let handle = FileHandle(fileDescriptor: child.input, closeOnDealloc: true)
            try? handle.write(contentsOf: input)
            try? handle.close()
        }
        async let read: Data = onThread { Self.readAll(child.output, limit: Self.maxOutputBytes) }
        async let errors: Data = onThread { Self.readAll(child.errors, limit: 4096) }
        let (_, output, stderr) = await (wrote, read, errors)
        let exit = await child.waitForExit(timeout: .seconds(2))
        if exit == nil { child.signalGroup(SIGKILL) }
        killer.cancel()
        guard exit == .exited(0), output.count < Self.maxOutputBytes else {
            let why = exit.map { "\($0)" } ?? "did not end"
            logger.warning("Markdown renderer failed; the body is shown as text", metadata: [
                "exit": "\(why)", "bytes": "\(input.count)", "stderr": "\(String(decoding: stderr.prefix(300), as: UTF8.self))",
            ])
            return nil
        }
        return SkillMarkdown.restored(String(decoding: output, as: UTF8.self))
    }

    /// Reads a pipe to its end (at most `limit` bytes are kept; the rest is drained) and closes it.
    static func readAll(_ fd: Int32, limit: Int) -> Data {
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var data = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            if data.count < limit { data.append(chunk.prefix(limit - data.count + 1)) }
        }
        try? handle.close()
        return data
    }
}
