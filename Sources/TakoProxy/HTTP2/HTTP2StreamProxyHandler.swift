import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Serves one HTTP/2 stream's plain request without converting it to HTTP/1 parts: the
/// HPACK header block is written straight into an HTTP/1.1 request head for a raw upstream
/// connection (`RawUpstreamConnection`), and the upstream's response becomes a HEADERS frame
/// and DATA frames carrying the upstream's own buffers.
///
/// It takes a stream whose first frame is a complete request without a body, with only the
/// usual pseudo-headers, headers that are valid HTTP/1.1 fields, and a route to a healthy
/// instance. Any other stream gets the full path instead — NIO's HTTP/2-to-HTTP/1 codec and
/// `ProxyHandler`, added behind this handler, which then leaves — exactly as before this
/// handler existed.
final class HTTP2StreamProxyHandler: ChannelDuplexHandler, RemovableChannelHandler, RawUpstreamDelegate {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case waitingForHeaders
        case connecting(UpstreamEndpoint)
        case proxying(RawUpstreamConnection)
        case done
    }

    private let shared: ProxyShared
    private let pool: UpstreamPool
    private let scheme: String
    private var context: ChannelHandlerContext?
    private var state = State.waitingForHeaders
    private var peer = ClientPeer()
    private var upstreamRequest: ByteBuffer?
    private var upstream = UpstreamChoice()
    private var isHEAD = false
    private var isIdempotent = false
    private var responseStarted = false
    /// The last body buffer of a read burst, held so the final one can carry END_STREAM.
    private var heldBody: ByteBuffer?

    init(shared: ProxyShared, pool: UpstreamPool, scheme: String) {
        self.shared = shared
        self.pool = pool
        self.scheme = scheme
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = ClientPeer(channel: context.channel, shared: shared)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        peer.leave()
    }

    // MARK: Client → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        guard case .waitingForHeaders = state else {
            // Nothing more is expected on a stream whose request ended with its headers.
            return
        }
        guard case .headers(let headers) = payload, headers.endStream, start(headers.headers, context: context) else {
            return useFullPath(context: context, first: payload)
        }
    }

    /// Routes and sends a request; false leaves the stream to the full path.
    private func start(_ headers: HPACKHeaders, context: ChannelHandlerContext) -> Bool {
        guard let address = peer.address, let request = Request(headers, maxTargetBytes: shared.configuration.maxURIBytes) else {
            return false
        }
        if shared.statusHandler != nil, request.path == "/_tako/status" { return false }
        guard let backend = shared.snapshots.snapshot.backend(host: request.authority, path: request.path),
            let endpoint = backend.pick()
        else { return false }
        guard peer.takeSlot() else { return false }
        isHEAD = request.method == "HEAD"
        isIdempotent = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"].contains(request.method)
        upstream.begin(backend)
        var out = context.channel.allocator.buffer(capacity: 512)
        request.write(headers, into: &out, clientAddress: address, scheme: scheme, requestIDs: shared.requestIDs)
        upstreamRequest = out
        send(to: endpoint)
        return true
    }

    private func send(to endpoint: UpstreamEndpoint) {
        upstream.send(to: endpoint)
        if let connection = pool.takeRaw(endpoint.address) {
            return relay(over: connection)
        }
        state = .connecting(endpoint)
        let handler = NIOLoopBound(self, eventLoop: pool.eventLoop)
        pool.connectRaw(endpoint.address).whenComplete { result in
            handler.value.connected(result, endpoint: endpoint)
        }
    }

    private func relay(over connection: RawUpstreamConnection) {
        guard let upstreamRequest else { return }
        state = .proxying(connection)
        connection.begin(
            delegate: self, head: upstreamRequest, isHEAD: isHEAD, dataOnly: true,
            responseTimeout: shared.configuration.upstreamResponseTimeout)
    }

    private func connected(_ result: Result<RawUpstreamConnection, any Error>, endpoint: UpstreamEndpoint) {
        guard case .connecting(let current) = state, current === endpoint else {
            if case .success(let connection) = result { connection.release(reusable: true) }
            return
        }
        switch result {
        case .success(let connection):
            relay(over: connection)
        case .failure:
            if let other = upstream.connectFailed(idempotent: isIdempotent) {
                return send(to: other)
            }
            answer(.badGateway)
        }
    }

    // MARK: Upstream → client

    func upstreamHead(_ head: RawResponseHead, lines: [RawHeaderLine], bytes: ByteBuffer) {
        guard let context else { return }
        responseStarted = true
        var headers = HPACKHeaders()
        headers.reserveCapacity(lines.count + 1)
        headers.add(name: ":status", value: String(head.status))
        bytes.withUnsafeReadableBytes { raw in
            let named = head.connectionNamesHeaders ? RawHeadWriter.connectionTokens(lines, from: raw) : []
            for line in lines where RawHeadWriter.reachesClient(line, named: named, in: raw) {
                var nameEnd = line.start
                while raw[nameEnd] != UInt8(ascii: ":") { nameEnd += 1 }
                // HTTP/2 field names are lower-case (RFC 9113 §8.2.1).
                let name = String(unsafeUninitializedCapacity: nameEnd - line.start) { buffer in
                    for offset in 0..<(nameEnd - line.start) {
                        let byte = raw[line.start + offset]
                        buffer[offset] = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
                    }
                    return nameEnd - line.start
                }
                let value = String(decoding: UnsafeRawBufferPointer(rebasing: raw[line.valueStart..<line.valueEnd]), as: UTF8.self)
                headers.add(name: name, value: value)
            }
        }
        let noBody = isHEAD || head.status == 204 || head.status == 304 || head.contentLength == 0
        context.write(wrapOutboundOut(.headers(.init(headers: headers, endStream: noBody))), promise: nil)
        if noBody { state = .done }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let context else { return }
        if let heldBody {
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(heldBody)))), promise: nil)
        }
        heldBody = buffer
        if !context.channel.isWritable, case .proxying(let connection) = state {
            connection.pauseReads()
        }
    }

    func upstreamReadComplete() {
        guard let context else { return }
        if let heldBody {
            self.heldBody = nil
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(heldBody)))), promise: nil)
        }
        context.flush()
    }

    func upstreamEnd() {
        guard let context else { return }
        if case .proxying(let connection) = state {
            connection.release(reusable: true)
        }
        upstream.finish()
        peer.releaseSlot()
        let ended: Bool
        if case .done = state { ended = true } else { ended = false }
        state = .done
        if !ended {
            let last = heldBody ?? context.channel.allocator.buffer(capacity: 0)
            heldBody = nil
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(last), endStream: true))), promise: nil)
        }
        context.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamFailed(timedOut: Bool) {
        upstream.finish()
        guard let context else { return }
        if responseStarted {
            state = .done
            context.close(promise: nil)
            return
        }
        answer(timedOut ? .gatewayTimeout : .badGateway)
    }

    private func answer(_ page: ErrorPage) {
        guard let context else { return }
        state = .done
        responseStarted = true
        peer.releaseSlot()
        let body = page.body()
        var headers = HPACKHeaders()
        headers.add(name: ":status", value: String(page.status.code))
        for (name, value) in page.fields(keepAlive: true, contentLength: body.utf8.count) { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.headers(.init(headers: headers, endStream: isHEAD))), promise: nil)
        if !isHEAD {
            let buffer = context.channel.allocator.buffer(string: body)
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(buffer), endStream: true))), promise: nil)
        }
        context.flush()
    }

    // MARK: The full path

    /// Puts NIO's HTTP/2-to-HTTP/1 codec and a `ProxyHandler` behind this handler, gives them
    /// the stream's first frame, and leaves.
    private func useFullPath(context: ChannelHandlerContext, first: HTTP2Frame.FramePayload) {
        let handler = ProxyHandler(shared: shared, pool: pool, connectionGuard: nil, scheme: scheme, redirect: nil, multiplexed: true)
        do {
            try context.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), handler], position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(first))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        self.context = nil
    }

    // MARK: Stream events

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .proxying(let connection):
            connection.release(reusable: false)
        case .connecting, .waitingForHeaders, .done:
            break
        }
        upstream.finish()
        state = .done
        peer.releaseSlot()
        self.context = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(let connection) = state {
            if context.channel.isWritable { connection.resumeReads() } else { connection.pauseReads() }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
