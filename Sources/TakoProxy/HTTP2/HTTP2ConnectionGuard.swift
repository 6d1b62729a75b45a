import NIOCore
import NIOHTTP2

/// Stands in for `ConnectionGuard` on an HTTP/2 connection, where requests are streams and
/// the HTTP/1 byte clocks make no sense:
///
/// - Idle: no open stream for `idleTimeout` → GOAWAY and closed. Control frames (PING) do
///   not keep a connection alive; only requests do. A client that never completes a first
///   HEADERS block is closed the same way.
/// - Drain (`ChannelShouldQuiesceEvent`): GOAWAY naming the last stream taken, so the client
///   retries anything newer elsewhere; the connection closes once its open streams finish.
///
/// Head size, stream count and the other limits are `HTTP2ServerConnection`'s.
///
/// It also coalesces flushes: streams finish one by one as their upstreams answer, each
/// flushing. Held until the event loop has handled the current batch of I/O events, the
/// responses that completed in it leave in one TLS write and one system call.
final class HTTP2ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let idleTimeout: TimeAmount
    private var openStreams = 0
    /// The highest stream the client opened: what a GOAWAY promises was (or will be) served.
    private var lastStreamID = HTTP2StreamID.rootStream
    private var quiescing = false
    private var closing = false
    private var deadline = NIODeadline.distantFuture
    private var timer = DeadlineTimer()
    private var context: ChannelHandlerContext?
    private var flushScheduled = false

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armIdle()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        timer.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent || event is ProxyHandoffEvent else {
            return context.fireUserInboundEventTriggered(event)
        }
        // A handoff is a drain for HTTP/2: GOAWAY tells the client which streams were taken,
        // and it opens a new connection (to the successor) for the rest.
        // Not passed on: NIOHTTP2 has no use for it, and streams finish their one request anyway.
        guard !quiescing else { return }
        quiescing = true
        goAway()
        if openStreams == 0 { close() }
    }

    /// Tasks the loop was given run after the I/O events of its current turn: every flush
    /// asked for meanwhile becomes one.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = handler.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    // MARK: Streams (told by `HTTP2ServerConnection`)

    func streamOpened(_ id: HTTP2StreamID) {
        openStreams += 1
        deadline = .distantFuture
        if id > lastStreamID { lastStreamID = id }
    }

    func streamClosed() {
        guard openStreams > 0 else { return }
        openStreams -= 1
        guard openStreams == 0 else { return }
        if quiescing { close() } else { armIdle() }
    }

    // MARK: Private

    private func armIdle() {
        guard let context, !closing else { return }
        deadline = .now() + idleTimeout
        let eventLoop = context.eventLoop
        timer.ensureCheck(by: deadline, on: eventLoop) {
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            return { handler.value.check() }
        }
    }

    private func check() {
        timer.fired()
        guard openStreams == 0, !closing else { return }
        if NIODeadline.now() >= deadline {
            goAway()
            close()
        } else {
            armIdle()
        }
    }

    /// Written from the channel's tail so that NIOHTTP2's handler (after this one) encodes it.
    private func goAway() {
        guard let context, !closing else { return }
        let frame = HTTP2Frame(
            streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
        context.channel.writeAndFlush(frame, promise: nil)
    }

    /// Closes the connection once what waits for a coalesced flush has been written (a held
    /// flush would be dropped by the close).
    func close() {
        guard let context, !closing else { return }
        closing = true
        timer.cancel()
        // What waits for a coalesced flush (a last response, the GOAWAY) leaves first.
        context.flush()
        context.channel.close(promise: nil)
    }
}
