import Testing
@testable import Plugins

/// An event stream read in chunks cut anywhere: the events a server sends, and no more memory
/// than the limit for one that never ends.
@Suite struct EventStreamParserTests {
    static func events(_ outputs: [EventStreamParser.Output]) -> [String] {
        outputs.map { output in
            switch output {
            case .event(let event): "\(event.name):\(String(decoding: event.data, as: UTF8.self))"
            case .oversized(let count, _): "oversized:\(count)"
            }
        }
    }

    @Test func eventsCutAtEveryByteReadTheSameAsWhole() {
        let text = ": a comment\r\nevent: endpoint\r\ndata: /messages/?session_id=1\r\n\r\nid: 7\ndata: {\"a\":\ndata: 1}\n\n\ndata:no space\n\n"
        var whole = EventStreamParser(maxEventBytes: 1 << 20)
        let expected = Self.events(whole.feed(Array(text.utf8)))
        #expect(expected == ["endpoint:/messages/?session_id=1", "message:{\"a\":\n1}", "message:no space"])
        #expect(whole.lastEventId == "7")
        var bytewise = EventStreamParser(maxEventBytes: 1 << 20)
        var outputs: [EventStreamParser.Output] = []
        for byte in text.utf8 { outputs += bytewise.feed([byte]) }
        #expect(Self.events(outputs) == expected)
    }

    @Test func anEventOverTheLimitIsDroppedAndTheNextOneStillArrives() {
        var parser = EventStreamParser(maxEventBytes: 64)
        let big = "data: " + String(repeating: "x", count: 10_000) + "\n\n"
        let outputs = parser.feed(Array((big + "data: small\n\n").utf8))
        #expect(outputs.count == 2)
        if case .oversized(let count, let prefix) = outputs.first {
            #expect(count > 64)
            #expect(prefix.count <= 256)
        } else {
            Issue.record("the big event was not reported as oversized: \(outputs)")
        }
        #expect(Self.events(Array(outputs.dropFirst())) == ["message:small"])
    }

    @Test func aBlankLineWithoutDataDispatchesNothing() {
        var parser = EventStreamParser(maxEventBytes: 64)
        #expect(parser.feed(Array("event: ping\n\n: keepalive\n\n".utf8)).isEmpty)
    }
}
