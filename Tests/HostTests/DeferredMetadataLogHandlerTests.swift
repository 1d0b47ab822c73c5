import Host
import Logging
import Synchronization
import Testing

/// The host's log handler writes what swift-log's `StreamLogHandler` writes, metadata included.
@Suite struct DeferredMetadataLogHandlerTests {
    final class Lines: TextOutputStream, @unchecked Sendable {
        let stored = Mutex<[String]>([])
        func write(_ string: String) { stored.withLock { $0.append(string) } }
        /// Each line without its first word (the time, which differs between the two handlers).
        var withoutTimes: [String] { stored.withLock { $0.map { String($0.drop { $0 != " " }) } } }
    }

    func both(_ body: (inout Logger) -> Void) -> (ours: [String], theirs: [String]) {
        let ours = Lines(), theirs = Lines()
        var a = Logger(label: "agenthub") { DeferredMetadataLogHandler(StreamLogHandler(label: $0, stream: ours, metadataProvider: nil)) }
        var b = Logger(label: "agenthub") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: nil) }
        a.logLevel = .debug
        b.logLevel = .debug
        body(&a)
        body(&b)
        return (ours.withoutTimes, theirs.withoutTimes)
    }

    @Test func linesMatchStreamLogHandlersWithAndWithoutMetadata() {
        let (ours, theirs) = both { logger in
            logger.info("plain")
            logger[metadataKey: "host.tool"] = "memory_get"
            logger[metadataKey: "host.span"] = "0123abcd"
            logger.notice("with the logger's metadata")
            logger.warning("and the message's", metadata: ["host.reason": "denied", "host.tool": "read_file"])
            logger[metadataKey: "host.span"] = nil
            logger.debug("one key removed")
            logger.error("an error", error: CodedTestError())
        }
        #expect(ours.count == 5)
        #expect(ours == theirs)
        #expect(ours[2].contains("host.tool=read_file"))
    }

    @Test func metadataSetOnACopyStaysOnTheCopy() {
        let lines = Lines()
        let base = Logger(label: "agenthub") { DeferredMetadataLogHandler(StreamLogHandler(label: $0, stream: lines, metadataProvider: nil)) }
        var copy = base
        copy[metadataKey: "host.tool"] = "memory_get"
        base.info("base")
        copy.info("copy")
        #expect(!lines.withoutTimes[0].contains("host.tool"))
        #expect(lines.withoutTimes[1].contains("host.tool=memory_get"))
    }

    @Test func aProvidersMetadataIsMergedAsStreamLogHandlerMergesIt() {
        let provider = Logger.MetadataProvider { ["host.request": "r1", "host.tool": "from-provider"] }
        let ours = Lines(), theirs = Lines()
        var a = Logger(label: "x") { DeferredMetadataLogHandler(StreamLogHandler(label: $0, stream: ours, metadataProvider: provider)) }
        var b = Logger(label: "x") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: provider) }
        a[metadataKey: "host.tool"] = "memory_get"
        b[metadataKey: "host.tool"] = "memory_get"
        a.info("merged", metadata: ["host.agent": "ada"])
        b.info("merged", metadata: ["host.agent": "ada"])
        #expect(ours.withoutTimes == theirs.withoutTimes)
        #expect(ours.withoutTimes.first?.contains("host.tool=from-provider") == true)
    }

    struct CodedTestError: Error, CustomStringConvertible { var description: String { "the disk is full" } }
}
