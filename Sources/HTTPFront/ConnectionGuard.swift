import Base
import CShims
import Foundation
import NIOCore
import NIOHTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// Limits on connections that hold the host without a key: slow headers and bodies (a byte every
/// 20 s keeps an idle timeout away) and one address opening thousands of connections.
///
/// - Every request's headers and body must arrive within `http.request_timeout` of the connection
///   opening or of the previous answer; a connection past it with a request still incomplete is closed.
/// - One client address holds at most `http.max_connections_per_address` connections; more are
///   closed as they open.
/// - When many connections have closed, free memory goes back to the system (`malloc_trim`), so a
///   flood that ended does not leave the host at its peak.
final class ConnectionGuard: Sendable {
    private struct State {
        var byAddress: [String: Int] = [:]
        var open = 0
        var closedSinceTrim = 0
    }
    private let state = LockedValue(State())
    let requestTimeout: TimeAmount
    let maxPerAddress: Int

    init(requestTimeout: Duration, maxPerAddress: Int) {
        self.requestTimeout = TimeAmount(requestTimeout)
        self.maxPerAddress = maxPerAddress
    }

    /// The handlers for one new connection.
    func handlers() -> [any RemovableChannelHandler] {
        [Handler(guard: self)]
    }

    /// Counts a connection from `address`; false when the address already holds its share.
    func admit(_ address: String) -> Bool {
        state.mutate { state in
            let count = state.byAddress[address, default: 0]
            guard count < maxPerAddress else { return false }
            state.byAddress[address] = count + 1
            state.open += 1
            return true
        }
    }

    func release(_ address: String) {
        let trim = state.mutate { state -> Bool in
            let count = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = count > 0 ? count : nil
            state.open -= 1
            state.closedSinceTrim += 1
            guard state.closedSinceTrim >= 1000 || (state.open == 0 && state.closedSinceTrim >= 100) else { return false }
            state.closedSinceTrim = 0
            return true
        }
        if trim { DispatchQueue.global(qos: .utility).async { _ = agenthub_malloc_trim() } }
    }

    /// One connection's share of the guard: its slot, and the deadline of the request it is reading.
    final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        let guard_: ConnectionGuard
        private var address: String?
        private var deadline: Scheduled<Void>?
        /// A request is being read (or none has started since the last answer).
        private var reading = true

        init(guard: ConnectionGuard) { guard_ = `guard` }

        func handlerAdded(context: ChannelHandlerContext) {
            let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
            guard guard_.admit(address) else {
                context.close(promise: nil)
                return
            }
            self.address = address
            arm(context)
        }

        func handlerRemoved(context: ChannelHandlerContext) { leave() }

        func channelInactive(context: ChannelHandlerContext) {
            leave()
            context.fireChannelInactive()
        }

        /// Gives the connection's slot back once, whichever of close or removal comes first.
        private func leave() {
            deadline?.cancel()
            deadline = nil
            if let address {
                self.address = nil
                guard_.release(address)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .end = unwrapInboundIn(data) {
                // The whole request is in: the answer may take as long as it takes.
                reading = false
                deadline?.cancel()
                deadline = nil
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) {
                // The answer is out: the next request on this connection gets its own deadline.
                reading = true
                arm(context)
            }
            context.write(data, promise: promise)
        }

        private func arm(_ context: ChannelHandlerContext) {
            deadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: guard_.requestTimeout) { [weak self] in
                guard let self, self.reading else { return }
                loopBound.value.close(promise: nil)
            }
        }
    }
}
