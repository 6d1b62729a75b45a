import NIOCore
import NIOHTTP1

/// Receives what an upstream connection delivers while it serves a request.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ buffer: ByteBuffer)
    func upstreamResponseEnd()
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed or failed before the response ended.
    func upstreamFailed(timedOut: Bool)
}

/// One keep-alive connection to an upstream instance, the last handler in its pipeline.
///
/// It lives on the event loop of the client connection that opened it, so it talks to its
/// delegate (the client's `ProxyHandler`) without hopping threads. Between requests it sits
/// idle in that loop's `UpstreamPool`.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler, PooledUpstream {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let address: SocketAddress
    private weak var pool: UpstreamPool?
    private weak var delegate: (any UpstreamConnectionDelegate)?
    private var context: ChannelHandlerContext?
    /// False once the upstream said `Connection: close`, answered with framing NIO rejected,
    /// or a response was cut short: such a connection is never reused.
    private(set) var isReusable = true
    private var responseInProgress = false
    private var reads = ReadGate()
    /// When the awaited response head is overdue (`.distantFuture` when none is awaited).
    private var headDeadline = NIODeadline.distantFuture
    private var timer = DeadlineTimer()

    init(address: SocketAddress, pool: UpstreamPool) {
        self.address = address
        self.pool = pool
    }

    var channel: (any Channel)? { context?.channel }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    // MARK: Serving a request

    /// Starts a request: from now on everything the upstream says goes to `delegate`.
    func begin(delegate: any UpstreamConnectionDelegate, head: HTTPRequestHead, responseTimeout timeout: TimeAmount) {
        self.delegate = delegate
        responseInProgress = true
        if reads.resume() { context?.read() }
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        headDeadline = .now() + timeout
        scheduleCheck()
    }

    private func scheduleCheck() {
        guard let context else { return }
        let eventLoop = context.eventLoop
        timer.ensureCheck(by: headDeadline, on: eventLoop) {
            let connection = NIOLoopBound(self, eventLoop: eventLoop)
            return { connection.value.checkDeadline() }
        }
    }

    private func checkDeadline() {
        timer.fired()
        guard headDeadline != .distantFuture else { return }
        if NIODeadline.now() >= headDeadline {
            timedOut()
        } else {
            scheduleCheck()
        }
    }

    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(part), promise: nil)
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    /// Back-pressure from the client: stop reading the upstream while the client is slow.
    func pauseReads() {
        reads.pause()
    }

    func resumeReads() {
        if reads.resume() { context?.read() }
    }

    /// The delegate is done with this connection: back to the pool, or closed when it
    /// cannot be reused.
    func release(reusable: Bool) {
        delegate = nil
        headDeadline = .distantFuture
        if reusable && isReusable && !responseInProgress, let pool {
            resumeReads()
            pool.put(self)
        } else {
            isReusable = false
            context?.close(promise: nil)
        }
    }

    /// After `101 Switching Protocols`: this connection stops speaking HTTP (ProxyHandler
    /// swaps the handlers) and is never pooled again.
    func detachForTunnel() {
        isReusable = false
        responseInProgress = false
        delegate = nil
        headDeadline = .distantFuture
        timer.cancel()
        reads.reset()
    }

    private func timedOut() {
        headDeadline = .distantFuture
        isReusable = false
        let delegate = self.delegate
        self.delegate = nil
        context?.close(promise: nil)
        delegate?.upstreamFailed(timedOut: true)
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            headDeadline = .distantFuture
            if !head.isKeepAlive { isReusable = false }
            delegate?.upstreamResponseHead(head)
        case .body(let buffer):
            delegate?.upstreamResponseBody(buffer)
        case .end:
            responseInProgress = false
            // An idle connection that talks is broken; one with no listener is closed.
            guard let delegate else {
                isReusable = false
                context.close(promise: nil)
                return
            }
            delegate.upstreamResponseEnd()
        }
        if delegate == nil && responseInProgress {
            // Data for a request nobody waits for any more (the client went away).
            isReusable = false
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isReusable = false
        timer.cancel()
        pool?.remove(self)
        if responseInProgress, let delegate {
            self.delegate = nil
            delegate.upstreamFailed(timedOut: false)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed upstream responses (conflicting framing, bad chunks) land here: the
        // connection is dropped and the client gets 502 through channelInactive.
        isReusable = false
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if reads.read() { context.read() }
    }
}
