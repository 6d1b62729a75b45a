import NIOCore
import NIOHTTP1

/// Serves an HTTP/1.1 client connection's plain requests without an HTTP codec: the request
/// head is parsed in place, rewritten into one buffer for the upstream (`RawHeadWriter`), and
/// the response is relayed as the upstream's own buffers (`RawUpstreamConnection`).
///
/// This is the proxy's hot path. Materialising `HTTPRequestHead`s, `HTTPHeaders` and HTTP
/// parts costs more CPU per request than the system calls do (docs/benchmarks.md), and most
/// requests are a head with no body that the proxy only has to route and pass on.
///
/// Anything else — a request body, an upgrade, `Expect`, a head outside `RawHead`'s strict
/// subset, a local answer (status page, ACME challenge, redirect, no route, no instance,
/// the per-client cap) — moves the connection for good to the full pipeline (NIO's HTTP/1.1
/// codec and `ProxyHandler`), which sees the request's bytes as if it had been there from the
/// start. So every rule of the full pipeline still decides every request it would have decided.
final class FastProxyHandler: ChannelDuplexHandler, RemovableChannelHandler, RawUpstreamDelegate, RawUpstreamSender {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case connecting(UpstreamEndpoint)
        case proxying(RawUpstreamConnection)
    }

    private let shared: ProxyShared
    let pool: UpstreamPool
    private let scheme: String
    private let redirect: HTTPSRedirect?
    private let connectionGuard: ConnectionGuard
    private var context: ChannelHandlerContext?
    /// The channel's, kept: reaching it through the channel costs a retain and a dynamic call.
    private var allocator = ByteBufferAllocator()
    private var state = State.idle
    /// Client bytes not yet served: a partial head, or requests pipelined behind the current one.
    private var inbound: ByteBuffer?

    // The request being served.
    private var request = RawRequestHead()
    private var upstreamRequest: ByteBuffer?
    var upstream = UpstreamChoice()
    private var keepAlive = true
    private var responseStarted = false
    private var requestNumber = 0
    /// Client writes made since the last flush.
    private var needsFlush = false

    private var routes = HostRouteCache()
    private var peer = ClientPeer()
    private var quiescing = false
    private var handingOff = false
    private var reads = ReadGate()
    private var sendTimer = SendTimer()

    init(shared: ProxyShared, pool: UpstreamPool, connectionGuard: ConnectionGuard, scheme: String, redirect: HTTPSRedirect?) {
        self.shared = shared
        self.pool = pool
        self.connectionGuard = connectionGuard
        self.scheme = scheme
        self.redirect = redirect
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        peer = ClientPeer(channel: context.channel, shared: shared)
    }

    /// Also when the connection moves to the full pipeline, whose handler registers itself.
    func handlerRemoved(context: ChannelHandlerContext) {
        peer.leave()
    }

    // MARK: Client → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if inbound == nil {
            inbound = buffer
        } else {
            inbound!.writeBuffer(&buffer)
        }
        guard case .idle = state else {
            // Pipelined behind the request in flight: served when it is done.
            reads.pause()
            return
        }
        serveInbound(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    /// Serves the complete requests in `inbound`, one at a time.
    private func serveInbound(context: ChannelHandlerContext) {
        while case .idle = state, let buffer = inbound, buffer.readableBytes > 0 {
            let maxTarget = shared.configuration.maxURIBytes
            let result = buffer.withUnsafeReadableBytes { RawHead.parseRequest($0, lines: &pool.headerLines, maxTargetBytes: maxTarget) }
            switch result {
            case .incomplete:
                // ConnectionGuard bounds how long and how large a head may grow.
                return
            case .unsupported:
                return useFullPipeline(context: context)
            case .complete(let head):
                guard start(head, in: buffer, context: context) else { return useFullPipeline(context: context) }
            }
        }
        if inbound?.readableBytes == 0 { inbound = nil }
        // What was answered here at once (the status page) leaves now, also when this ran
        // after an upstream response rather than from a read.
        flushIfNeeded()
    }

    /// Routes a parsed request and sends it; false leaves it to the full pipeline.
    private func start(_ head: RawRequestHead, in buffer: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        guard let peerAddress = peer.address else { return false }
        let routing = buffer.withUnsafeReadableBytes { route(head, in: $0) }
        let backend: AppBackend
        switch routing {
        case .status:
            accept(head)
            let (code, body) = shared.statusHandler!()
            respondLocally(ErrorPage(status: code), body: body, contentType: "application/json", context: context)
            return true
        case .elsewhere:
            return false
        case .backend(let routed):
            backend = routed
        }
        guard let endpoint = backend.pick(), peer.takeSlot() else { return false }
        accept(head)
        upstream.begin(backend)
        upstreamRequest = buffer.withUnsafeReadableBytes { bytes in
            RawHeadWriter.upstreamRequest(
                head, lines: pool.headerLines, from: bytes, allocator: allocator, clientAddress: peerAddress,
                trustedPeer: peer.isTrusted, scheme: scheme, requestIDs: shared.requestIDs)
        }
        send(to: endpoint)
        return true
    }

    private enum Routing {
        /// The status page, which the fast path answers itself.
        case status
        /// Not for the fast path: a challenge, a redirect, or no route (the full pipeline answers).
        case elsewhere
        case backend(AppBackend)
    }

    /// Where a parsed request goes, read from its bytes: the usual request makes no string.
    private func route(_ head: RawRequestHead, in bytes: UnsafeRawBufferPointer) -> Routing {
        let target = UnsafeRawBufferPointer(rebasing: bytes[head.targetStart..<head.targetEnd])
        let host = UnsafeRawBufferPointer(rebasing: bytes[head.hostStart..<head.hostEnd])
        if shared.statusHandler != nil, RawHead.equals(target, "/_tako/status") { return .status }
        if scheme == "http", shared.challenges != nil, target.starts(with: HTTPSRedirect.challengePrefix.utf8) {
            return .elsewhere
        }
        let targetString = { String(decoding: target, as: UTF8.self) }
        if let redirect, redirect.location(host: String(decoding: host, as: UTF8.self), target: targetString()) != nil {
            return .elsewhere
        }
        guard let backend = routes.backend(in: shared.snapshots.snapshot, host: host, target: targetString) else {
            return .elsewhere
        }
        return .backend(backend)
    }

    /// The request in `inbound`'s head is the one now served.
    private func accept(_ head: RawRequestHead) {
        connectionGuard.headReceived()
        requestNumber &+= 1
        request = head
        keepAlive = head.keepAlive && !handingOff && !quiescing
        responseStarted = false
        inbound!.moveReaderIndex(forwardBy: head.length)
        if inbound!.readableBytes == 0 { inbound = nil }
    }

    /// Answers the status page at once. Unlike `answer`, it does not go on to the next
    /// request itself: it runs inside `serveInbound`'s loop, which does (no recursion however
    /// many status requests a client pipelines), and whose end flushes.
    private func respondLocally(_ page: ErrorPage, body: ByteBuffer, contentType: String, context: ChannelHandlerContext) {
        write(page, body: body, contentType: contentType, context: context)
        if !keepAlive || quiescing {
            closeAfterResponse(context: context)
        } else {
            connectionGuard.exchangeFinished()
        }
    }

    // MARK: RawUpstreamSender

    var isIdempotentRequest: Bool { request.isIdempotent }
    var requestToken: Int { requestNumber }

    func connecting(to endpoint: UpstreamEndpoint) {
        state = .connecting(endpoint)
    }

    func isConnecting(to endpoint: UpstreamEndpoint, token: Int) -> Bool {
        guard token == requestNumber, case .connecting(let current) = state else { return false }
        return current === endpoint
    }

    func relay(over connection: RawUpstreamConnection) {
        guard let upstreamRequest else { return }
        // Sent now, and never again (a retry is only for a connect that failed): an idle
        // keep-alive connection does not keep its last request's head.
        self.upstreamRequest = nil
        state = .proxying(connection)
        connection.begin(
            delegate: self, head: upstreamRequest, isHEAD: request.isHEAD, dataOnly: request.isHTTP10,
            responseTimeout: shared.configuration.upstreamResponseTimeout)
    }

    func noConnection() {
        state = .idle
        answer(.badGateway)
    }

    // MARK: Upstream → client

    func upstreamHead(_ head: RawResponseHead, lines: [RawHeaderLine], bytes: ByteBuffer, body: Int, complete: Bool) {
        guard let context else { return }
        responseStarted = true
        let hasBody = !(request.isHEAD || head.status == 204 || head.status == 304)
        // A body that ends with the connection (no length, or chunks an HTTP/1.0 client
        // cannot read) ends the client's connection too.
        if hasBody && (head.chunked ? request.isHTTP10 : head.contentLength == nil) { keepAlive = false }
        let out = bytes.withUnsafeReadableBytes { raw in
            RawHeadWriter.clientResponse(
                head, lines: lines, from: raw, allocator: allocator, clientIsHTTP10: request.isHTTP10, keepAlive: keepAlive,
                chunked: head.chunked && !request.isHTTP10, body: body)
        }
        if complete {
            // The whole response: it leaves now, with one pass down the pipeline.
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            needsFlush = false
        } else {
            context.write(wrapOutboundOut(out), promise: nil)
            needsFlush = true
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
        if !context.channel.isWritable, case .proxying(let connection) = state {
            connection.pauseReads()
        }
    }

    func upstreamReadComplete() {
        flushIfNeeded()
    }

    func upstreamEnd() {
        guard let context, case .proxying(let connection) = state else { return }
        upstream.finish()
        connection.release(reusable: true)
        state = .idle
        finishExchange(context: context)
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        // Fast-path requests have no body: nothing waits for the upstream to take it.
    }

    func upstreamFailed(timedOut: Bool) {
        upstream.finish()
        guard let context else { return }
        state = .idle
        if responseStarted {
            // Part of the response is out: the only honest signal left is closing.
            context.close(promise: nil)
            return
        }
        answer(timedOut ? .gatewayTimeout : .badGateway)
    }

    // MARK: Finishing

    private func answer(_ page: ErrorPage) {
        guard let context else { return }
        write(page, context: context)
        finishExchange(context: context)
    }

    /// The proxy's own response to the current request, flushed with the next flush.
    private func write(_ page: ErrorPage, body: ByteBuffer? = nil, contentType: String? = nil, context: ChannelHandlerContext) {
        responseStarted = true
        let bytes = page.bytes(
            isHTTP10: request.isHTTP10, keepAlive: keepAlive, includeBody: !request.isHEAD, allocator: context.channel.allocator,
            body: body, contentType: contentType)
        context.write(wrapOutboundOut(bytes), promise: nil)
        needsFlush = true
    }

    private func finishExchange(context: ChannelHandlerContext) {
        peer.releaseSlot()
        if !keepAlive || quiescing { return closeAfterResponse(context: context) }
        // The upstream connection is released already and reports no read completion to
        // this handler any more: the response is flushed here, once.
        flushIfNeeded()
        connectionGuard.exchangeFinished()
        serveInbound(context: context)
        if case .idle = state { resumeReads() }
    }

    /// Nothing more is served on this connection: it closes once the response is out.
    private func closeAfterResponse(context: ChannelHandlerContext) {
        inbound = nil
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        needsFlush = false
        let channel = context.channel
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }

    private func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// Hands this connection to NIO's HTTP/1.1 codec and `ProxyHandler` for good, with the
    /// bytes not served yet, and leaves the pipeline.
    private func useFullPipeline(context: ChannelHandlerContext) {
        flushIfNeeded()
        let handler = ProxyHandler(
            shared: shared, pool: pool, connectionGuard: connectionGuard, scheme: scheme, redirect: redirect,
            handingOff: handingOff)
        do {
            try context.pipeline.syncOperations.addHandlers(
                [HTTPResponseEncoder(), ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), handler],
                position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        let pending = inbound
        inbound = nil
        let readWasWanted = reads.holdsRead || reads.isPaused
        if let pending {
            context.fireChannelRead(wrapInboundOut(pending))
            context.fireChannelReadComplete()
        }
        if quiescing { context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        let channel = context.channel
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        self.context = nil
        // Reads this handler held back are ProxyHandler's to manage now.
        if readWasWanted { channel.read() }
    }

    // MARK: Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ProxyHandoffEvent {
            handingOff = true
            // A response not begun yet can still say `Connection: close`.
            if case .idle = state {} else if !responseStarted { keepAlive = false }
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            return context.fireUserInboundEventTriggered(event)
        }
        quiescing = true
        keepAlive = false
        if case .idle = state, inbound == nil, connectionGuard.isBetweenRequests { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .proxying(let connection):
            connection.release(reusable: false)
        case .connecting, .idle:
            break
        }
        upstream.finish()
        state = .idle
        peer.releaseSlot()
        sendTimer.cancel()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(let connection) = state {
            if context.channel.isWritable { connection.resumeReads() } else { connection.pauseReads() }
        }
        sendTimer.writabilityChanged(context.channel, timeout: shared.configuration.sendTimeout)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if reads.read() { context.read() }
    }

    private func resumeReads() {
        if reads.resume() { context?.read() }
    }
}
