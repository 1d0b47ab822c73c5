import Testing
@testable import HTTPFront

/// Reading `Authorization: Bearer KEY` on every request, without Foundation.
@Suite struct BearerHeaderTests {
    @Test func theSchemeIsMatchedInAnyCaseAndBlanksAroundTheKeyAreDropped() {
        #expect(HTTPAPI.bearerKey("Bearer ah_abc") == "ah_abc")
        #expect(HTTPAPI.bearerKey("bEaReR ah_abc") == "ah_abc")
        #expect(HTTPAPI.bearerKey("Bearer    ah_abc \t") == "ah_abc")
        #expect(HTTPAPI.bearerKey("Bearer ah_é") == "ah_é")
    }

    @Test func anotherSchemeOrNoBlankAfterItIsNotABearerKey() {
        for header in ["Basic ah_abc", "Bearer", "Bearerah_abc", "Bearer\tah_abc", "Bearex ah_abc", "Bear ah_abc", "", "[EARER ah_abc"] {
            #expect(HTTPAPI.bearerKey(header) == nil, "\(header)")
        }
    }
}
