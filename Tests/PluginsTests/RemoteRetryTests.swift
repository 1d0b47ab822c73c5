import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import Plugins

/// Which failures of a request to a remote server send it once more on a new connection: those of
/// a kept-alive connection the server let go just then, never a server that refuses connections.
@Suite struct RemoteRetryTests {
    @Test func aConnectionClosedResetOrBrokenBeforeTheAnswerIsTriedAgain() {
        #expect(RemoteHTTP.closedBeforeAnswering(HTTPClientError.remoteConnectionClosed))
        #expect(RemoteHTTP.closedBeforeAnswering(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")))
        #expect(RemoteHTTP.closedBeforeAnswering(IOError(errnoCode: EPIPE, reason: "write")))
        #expect(RemoteHTTP.closedBeforeAnswering(ChannelError.ioOnClosedChannel))
    }

    @Test func aRefusedOrTimedOutConnectionIsNot() {
        #expect(!RemoteHTTP.closedBeforeAnswering(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!RemoteHTTP.closedBeforeAnswering(HTTPClientError.connectTimeout))
        #expect(!RemoteHTTP.closedBeforeAnswering(HTTPClientError.cancelled))
        #expect(!RemoteHTTP.closedBeforeAnswering(CancellationError()))
    }
}
