import NIOCore

/// The first handler of every client connection: it bounds what a client may cost before
/// the HTTP parser has a request head to show for it.
///
/// - Idle keep-alive: no byte of a next request for `idleTimeout` → closed.
/// - Slow-loris: a head not complete within `headTimeout` of its first byte → closed.
/// - Oversized head: more than `maxHeadBytes` before the head is parsed → 431 and closed.
///
/// It counts raw bytes, so it never parses anything; `ProxyHandler` tells it when a head has
/// arrived and when an exchange has finished.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests: waiting for the first byte of the next one.
        case idle
        /// Bytes of a head are arriving; `bytes` so far.
        case readingHead(bytes: Int)
        /// A request is being served: no client timers.
        case busy
        case closed
    }

    private let maxHeadBytes: Int
    private let headTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var state = State.idle
    /// When the current state's clock runs out (`.distantFuture` while busy).
    private var deadline = NIODeadline.distantFuture
    /// Requests on a busy keep-alive connection only move `deadline`.
    private var timer = DeadlineTimer()
    private var context: ChannelHandlerContext?

    init(configuration: ProxyConfiguration) {
        maxHeadBytes = configuration.maxHeadBytes
        headTimeout = configuration.headTimeout
        idleTimeout = configuration.idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Removed when the connection becomes HTTP/2 or a tunnel: its clocks stop with it.
    func handlerRemoved(context: ChannelHandlerContext) {
        state = .closed
        timer.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        timer.cancel()
        context.fireChannelInactive()
    }

    /// No byte of a next request has arrived: closing now loses nothing.
    var isBetweenRequests: Bool {
        if case .idle = state { return true }
        return false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .idle:
            let count = unwrapInboundIn(data).readableBytes
            state = .readingHead(bytes: count)
            arm(headTimeout)
            if count > maxHeadBytes { return headTooLarge(context) }
        case .readingHead(let bytes):
            let total = bytes + unwrapInboundIn(data).readableBytes
            state = .readingHead(bytes: total)
            if total > maxHeadBytes { return headTooLarge(context) }
        case .busy:
            break
        case .closed:
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A connection already answered here (431) only lingers to let the client read the
        // answer: a drain just ends it. The HTTP handlers behind never saw a request on it.
        if event is ChannelShouldQuiesceEvent, case .closed = state {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Events from ProxyHandler

    /// A whole request head was parsed: the client is no longer on the clock.
    func headReceived() {
        if case .closed = state { return }
        state = .busy
        deadline = .distantFuture
    }

    /// The request and its response are both complete: the idle clock starts.
    func exchangeFinished() {
        guard case .busy = state else { return }
        state = .idle
        arm(idleTimeout)
    }

    // MARK: Private

    private func arm(_ timeout: TimeAmount) {
        deadline = .now() + timeout
        scheduleCheck()
    }

    /// Makes sure a check runs no later than `deadline`. A check is never scheduled further
    /// ahead than `headTimeout`, so the common step from idle to reading a head (whose
    /// deadline is `headTimeout` away) never needs a new timer.
    private func scheduleCheck() {
        guard let context else { return }
        let eventLoop = context.eventLoop
        timer.ensureCheck(by: min(deadline, .now() + headTimeout), on: eventLoop) {
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            return { handler.value.check() }
        }
    }

    private func check() {
        timer.fired()
        switch state {
        case .idle, .readingHead:
            if NIODeadline.now() >= deadline {
                state = .closed
                context?.close(promise: nil)
            } else {
                scheduleCheck()
            }
        case .busy, .closed:
            break
        }
    }

    /// Answers 431 below the HTTP codec (the parser has not produced a head to answer) and
    /// closes: the rest of the connection's bytes can no longer be trusted. The write side
    /// closes first and what the client still sends is read and dropped for a moment, so the
    /// kernel does not reset the connection before the client has read the answer.
    private func headTooLarge(_ context: ChannelHandlerContext) {
        state = .closed
        timer.cancel()
        let channel = NIOLoopBound(context.channel, eventLoop: context.eventLoop)
        timer.ensureCheck(by: .now() + .seconds(2), on: context.eventLoop) { { channel.value.close(promise: nil) } }
        let body = "<!doctype html><title>431 Request Header Fields Too Large</title><h1>431 Request Header Fields Too Large</h1>\n"
        let response =
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/html; charset=utf-8\r\n"
            + "content-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n" + body
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response)), promise: nil)
        context.close(mode: .output, promise: nil)
    }
}
