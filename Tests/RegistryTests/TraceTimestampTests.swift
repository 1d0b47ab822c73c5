import Foundation
import Testing
@testable import Registry

@Suite struct TraceTimestampTests {
    @Test func timestampsAreISO8601InUTCWithMilliseconds() {
        #expect(TraceEvent.timestamp(Date(timeIntervalSince1970: 1_800_000_000.042)) == "2027-01-15T08:00:00.042Z")
        #expect(TraceEvent.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
