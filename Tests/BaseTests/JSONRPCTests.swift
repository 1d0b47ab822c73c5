import Foundation

import Testing
@testable import Base

@Suite struct JSONRPCMessageTests {
    func decode(_ text: String) -> Result<JSONRPCMessage, JSONRPCMessage.DecodeFailure> { JSONRPCMessage.decode(Array(text.utf8)) }

    @Test func decodesRequestsNotificationsAndResponses() {
        #expect(decode(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#) == .success(.request(id: .int(1), method: "ping", params: nil)))
        #expect(decode(#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}"#) == .success(.request(id: .string("a"), method: "x", params: ["k": 1])))
        #expect(decode(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) == .success(.notification(method: "notifications/initialized", params: nil)))
        #expect(decode(#"{"jsonrpc":"2.0","id":2,"result":{}}"#) == .success(.response(id: .int(2), result: [:])))
        #expect(decode(#"{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"m"}}"#) == .success(.error(id: .int(3), JSONRPCError(-1, "m"))))
    }

    @Test(arguments: [
        ("{bad", -32700, nil as JSONRPCID?), ("[]", -32600, nil), ("5", -32600, nil),
        (#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#, -32600, .int(4)),
        (#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, -32600, nil),
        (#"{"jsonrpc":"2.0","id":5,"method":""}"#, -32600, .int(5)),
        (#"{"jsonrpc":"2.0","id":6,"method":"x","params":3}"#, -32600, .int(6)),
        (#"{"jsonrpc":"2.0","id":7}"#, -32600, .int(7)),
    ])
    func malformedMessagesCarryTheirCodeAndIdWhenKnown(_ text: String, _ code: Int, _ id: JSONRPCID?) {
        guard case .failure(let failure) = decode(text) else { Issue.record("\(text) decoded"); return }
        #expect(failure.error.code == code)
        #expect(failure.id == id)
        #expect(!failure.isNotification)
    }

    @Test func aMalformedNotificationIsMarkedSoItIsNeverAnswered() {
        guard case .failure(let failure) = decode(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"junk"}"#) else {
            Issue.record("decoded"); return
        }
        #expect(failure.isNotification)
    }

    @Test func linesEndInOneNewlineAndEscapeNewlinesInside() {
        let line = JSONRPCMessage.response(id: .int(1), result: ["text": "a\nb"]).line
        #expect(line.last == 0x0A && line.dropLast().allSatisfy { $0 != 0x0A })
    }
}

@Suite struct LineReaderTests {
    /// Writes `chunks` into a pipe, closes it, and returns every event the reader reported.
    func events(_ chunks: [[UInt8]], maxLineBytes: Int) async -> [LineReader.Event] {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        let reader = LineReader(fd: fds[0], maxLineBytes: maxLineBytes)
        reader.start()
        let writer = fds[1]
        DispatchQueue.global().async {
            for chunk in chunks { chunk.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) } }
            close(writer)
        }
        var out: [LineReader.Event] = []
        for await event in reader.events {
            out.append(event)
            reader.consumed()
        }
        close(fds[0])
        return out
    }

    func describe(_ events: [LineReader.Event]) -> [String] {
        events.map {
            switch $0 {
            case .line(let bytes): return "line:" + String(decoding: bytes, as: UTF8.self)
            case .oversized(let count, let prefix): return "oversized:\(count):\(prefix.count)"
            case .closed(let error): return "closed:\(error ?? "eof")"
            }
        }
    }

    @Test func splitsLinesAcrossChunksAndDropsCarriageReturnsAndBlankLines() async {
        let got = await events([Array("{\"a\":1}\r\n\n  \n{\"b\"".utf8), Array(":2}\n{\"c\":3}".utf8)], maxLineBytes: 1024)
        #expect(describe(got) == [#"line:{"a":1}"#, #"line:{"b":2}"#, #"line:{"c":3}"#, "closed:eof"])
    }

    @Test func aLineOverTheCapIsReportedWithItsSizeAndTheNextLineStillArrives() async {
        let big = [UInt8](repeating: 0x61, count: 300_000)
        let got = await events([Array("{\"id\":1}\n".utf8), big, Array("\n{\"id\":2}\n".utf8)], maxLineBytes: 100_000)
        #expect(describe(got) == [#"line:{"id":1}"#, "oversized:300000:4096", #"line:{"id":2}"#, "closed:eof"])
    }
}
