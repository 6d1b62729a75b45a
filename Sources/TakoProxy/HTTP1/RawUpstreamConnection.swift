import NIOCore

/// Receives what a `RawUpstreamConnection` delivers while it serves a request.
protocol RawUpstreamDelegate: AnyObject {
    /// The response head, parsed in place: `bytes` starts with it. The `body` bytes after it
    /// are the start of the body, the delegate's to pass on (with the head, when it can).
    /// `complete` says they are the whole body (none, for a HEAD, 204, 304 or zero length):
    /// only `upstreamEnd` follows. The connection's framing decides it, so no delegate
    /// works it out again from the head.
    func upstreamHead(_ head: RawResponseHead, lines: [RawHeaderLine], bytes: ByteBuffer, body: Int, complete: Bool)
    /// Body bytes to pass on as they are (chunks included, unless `begin` asked for data only).
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed, failed or sent something unframeable before the response ended.
    func upstreamFailed(timedOut: Bool)
}

/// One keep-alive connection to an upstream instance for the fast path: no HTTP codec, just
/// bytes. It writes the request head it is given and frames the response itself
/// (`RawHead.parseResponse`, `ChunkedScanner`), handing body buffers on without copying.
///
/// Like `UpstreamConnection` it lives on its client's event loop and sits in that loop's
/// `UpstreamPool` between requests.
final class RawUpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler, PooledUpstream {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An upstream head larger than this is not an answer the proxy forwards (502).
    static let maxHeadBytes = 64 * 1024
    /// Body bytes that arrived with the head, up to this many, go to the client with it: a
    /// copy this size costs less than a second write through the pipeline.
    static let bodyWithHeadBytes = 4 * 1024

    private enum Phase {
        case idle
        case awaitingHead
        case body(Framing)
    }

    private enum Framing {
        case length(Int64)
        case chunked
        case untilClose
    }

    let address: SocketAddress
    private weak var pool: UpstreamPool?
    /// Strong, and cleared when the exchange ends (`release`, `fail`, `finish`): a weak
    /// reference would give every delegate a side table, and every retain of it the slow path.
    private var delegate: (any RawUpstreamDelegate)?
    private var context: ChannelHandlerContext?
    private(set) var isReusable = true
    private var phase = Phase.idle
    /// A head that arrived in parts.
    private var partialHead: ByteBuffer?
    private var lines: [RawHeaderLine] = []
    private var chunks = ChunkedScanner()
    private var requestIsHEAD = false
    /// Hand on chunk data only (for an HTTP/1.0 client) rather than the chunked bytes.
    private var dataOnly = false
    private var reads = ReadGate()
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
        lines.reserveCapacity(16)
    }

    // MARK: Serving a request

    /// Sends a request head (the request has no body) and routes the response to `delegate`.
    func begin(
        delegate: any RawUpstreamDelegate, head: ByteBuffer, isHEAD: Bool, dataOnly: Bool, responseTimeout: TimeAmount
    ) {
        self.delegate = delegate
        phase = .awaitingHead
        requestIsHEAD = isHEAD
        self.dataOnly = dataOnly
        if reads.resume() { context?.read() }
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        headDeadline = .now() + responseTimeout
        let eventLoop = context.eventLoop
        timer.ensureCheck(by: headDeadline, on: eventLoop) {
            let connection = NIOLoopBound(self, eventLoop: eventLoop)
            return { connection.value.checkDeadline() }
        }
    }

    private func checkDeadline() {
        timer.fired()
        guard headDeadline != .distantFuture, let context else { return }
        if NIODeadline.now() >= headDeadline {
            fail(timedOut: true)
        } else {
            let eventLoop = context.eventLoop
            timer.ensureCheck(by: headDeadline, on: eventLoop) {
                let connection = NIOLoopBound(self, eventLoop: eventLoop)
                return { connection.value.checkDeadline() }
            }
        }
    }

    func pauseReads() {
        reads.pause()
    }

    func resumeReads() {
        if reads.resume() { context?.read() }
    }

    /// The delegate is done with this connection: back to the pool, or closed.
    func release(reusable: Bool) {
        delegate = nil
        headDeadline = .distantFuture
        if reusable && isReusable, case .idle = phase, let pool {
            resumeReads()
            pool.put(self)
        } else {
            isReusable = false
            context?.close(promise: nil)
        }
    }

    private func fail(timedOut: Bool) {
        headDeadline = .distantFuture
        isReusable = false
        phase = .idle
        let delegate = self.delegate
        self.delegate = nil
        context?.close(promise: nil)
        delegate?.upstreamFailed(timedOut: timedOut)
    }

    private func finish() {
        phase = .idle
        if let delegate {
            // The delegate releases this connection from here; it is not reached again.
            self.delegate = nil
            delegate.upstreamEnd()
        } else {
            isReusable = false
            context?.close(promise: nil)
        }
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch phase {
        case .idle:
            // An idle connection that talks is broken.
            isReusable = false
            context.close(promise: nil)
        case .awaitingHead:
            if var partial = partialHead {
                partialHead = nil
                partial.writeBuffer(&buffer)
                buffer = partial
            }
            readHead(&buffer)
        case .body(let framing):
            readBody(&buffer, framing: framing)
        }
    }

    private func readHead(_ buffer: inout ByteBuffer) {
        while true {
            let result = buffer.withUnsafeReadableBytes { RawHead.parseResponse($0, lines: &lines) }
            switch result {
            case .incomplete:
                guard buffer.readableBytes <= Self.maxHeadBytes else { return fail(timedOut: false) }
                partialHead = buffer
                return
            case .unsupported:
                return fail(timedOut: false)
            case .complete(let head):
                if head.status < 200 {
                    // Interim answers (100, 103) are not passed on; 101 was never asked for.
                    guard head.status != 101 else { return fail(timedOut: false) }
                    buffer.moveReaderIndex(forwardBy: head.length)
                    if buffer.readableBytes == 0 { return }
                    continue
                }
                headDeadline = .distantFuture
                if !head.keepAlive { isReusable = false }
                var framing: Framing?
                if requestIsHEAD || head.status == 204 || head.status == 304 {
                    framing = nil
                } else if head.chunked {
                    chunks = ChunkedScanner()
                    framing = .chunked
                } else if let length = head.contentLength {
                    framing = length > 0 ? .length(length) : nil
                } else {
                    isReusable = false
                    framing = .untilClose
                }
                // A small body that arrived whole, or its start, leaves with the head.
                var body = 0
                if case .length(let length) = framing {
                    let arrived = min(Int64(buffer.readableBytes - head.length), length)
                    if arrived <= Self.bodyWithHeadBytes {
                        body = Int(arrived)
                        framing = arrived == length ? nil : .length(length - arrived)
                    }
                }
                delegate?.upstreamHead(head, lines: lines, bytes: buffer, body: body, complete: framing == nil)
                buffer.moveReaderIndex(forwardBy: head.length + body)
                guard let framing else {
                    if buffer.readableBytes > 0 { isReusable = false }
                    return finish()
                }
                phase = .body(framing)
                if buffer.readableBytes > 0 { readBody(&buffer, framing: framing) }
                return
            }
        }
    }

    private func readBody(_ buffer: inout ByteBuffer, framing: Framing) {
        switch framing {
        case .length(let remaining):
            let take = Int(min(remaining, Int64(buffer.readableBytes)))
            let left = remaining - Int64(take)
            if take == buffer.readableBytes {
                delegate?.upstreamBody(buffer)
            } else {
                delegate?.upstreamBody(buffer.getSlice(at: buffer.readerIndex, length: take)!)
                isReusable = false
            }
            if left == 0 {
                finish()
            } else {
                phase = .body(.length(left))
            }
        case .chunked:
            let base = buffer.readerIndex
            let dataOnly = self.dataOnly
            var slices: [ByteBuffer] = []
            let result = buffer.withUnsafeReadableBytes { bytes in
                chunks.scan(bytes) { range in
                    if dataOnly, !range.isEmpty { slices.append(buffer.getSlice(at: base + range.lowerBound, length: range.count)!) }
                }
            }
            switch result {
            case .invalid:
                fail(timedOut: false)
            case .more:
                if dataOnly { slices.forEach { delegate?.upstreamBody($0) } } else { delegate?.upstreamBody(buffer) }
            case .end(let end):
                if dataOnly {
                    slices.forEach { delegate?.upstreamBody($0) }
                } else {
                    delegate?.upstreamBody(buffer.getSlice(at: base, length: end)!)
                }
                if end < buffer.readableBytes { isReusable = false }
                finish()
            }
        case .untilClose:
            delegate?.upstreamBody(buffer)
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
        switch phase {
        case .body(.untilClose):
            // The end of the connection is the end of this body.
            finish()
        case .awaitingHead, .body:
            fail(timedOut: false)
        case .idle:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isReusable = false
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if reads.read() { context.read() }
    }
}
