import Foundation
import Testing
@testable import Registry

/// How a trace event is stamped and named: its time, and the span id the router makes for a call.
@Suite struct TraceIdentityTests {
    @Test func timestampsAreISO8601InUTCWithMilliseconds() {
        #expect(TraceEvent.timestamp(Date(timeIntervalSince1970: 1_800_000_000.042)) == "2027-01-15T08:00:00.042Z")
        #expect(TraceEvent.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func timestampsAgreeWithFoundationsFormatterOverManyTimes() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<2000 {
            // 0.4 ms into a millisecond, so truncating and rounding agree on which one it is.
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000)) / 1000 + 0.0004)
            #expect(TraceEvent.timestamp(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }

    @Test func aSpanIdIsTheMillisecondThenACountInSixteenHexDigits() {
        #expect(TraceEvent.spanId(milliseconds: 0x1_2345_6789, count: 0xffff_ffff_0000_00ab) == "23456789000000ab")
        let id = TraceEvent.newSpanId()
        #expect(id.utf8.count == 16 && id.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
    }

    @Test func spanIdsMadeLaterSortAfterAndNoneRepeats() async throws {
        var ids: [String] = []
        for round in 0..<3 {
            ids += (0..<20_000).map { _ in TraceEvent.newSpanId() }
            if round < 2 { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(Set(ids).count == ids.count)
        // Within a millisecond the order is random; a later millisecond sorts after an earlier one.
        let first = ids[0..<20_000], last = ids[40_000...]
        #expect(first.max()! < last.min()!)
    }
}
