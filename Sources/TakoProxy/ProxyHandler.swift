import NIOCore
import NIOHTTP1

/// Serves one client connection (or one HTTP/2 stream): routes each request, relays it to an
/// upstream connection and relays the response back, streaming both ways with back-pressure.
///
/// An HTTP/2 stream reaches it as HTTP/1-style parts (NIOHTTP2's codec), one request per
/// stream; upstreams always speak HTTP/1.1.
///
/// Everything here runs on the client channel's event loop; the upstream connection lives on
/// the same loop, so relaying is plain method calls with no locks, futures or tasks.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamConnectionDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// No healthy instance: waiting for the owner to start one (client reads are paused;
        /// request parts that already arrived wait here).
        case waitingForInstance(pending: [HTTPClientRequestPart])
        /// Opening an upstream connection; request parts wait here (client reads are paused).
        case connecting(pending: [HTTPClientRequestPart])
        /// The request is relayed to `upstream`.
        case proxying(UpstreamConnection)
        /// The proxy answered itself; the rest of the request body is dropped.
        case answeredLocally
    }

    private let shared: ProxyShared
    private let pool: UpstreamPool
    /// `http` or `https`: what this connection's listener speaks (X-Forwarded-Proto).
    private let scheme: String
    /// On the HTTP listener of a server with HTTPS: where hosts with a certificate go.
    private let redirect: HTTPSRedirect?
    /// HTTP/1 connections only; an HTTP/2 connection has its own guard (`HTTP2ConnectionGuard`).
    private let connectionGuard: ConnectionGuard?
    /// An HTTP/2 stream: one request, no connection-level keep-alive or upgrades.
    private let multiplexed: Bool
    private var context: ChannelHandlerContext?
    private var state = State.idle

    // The request being served.
    private var requestHead: HTTPRequestHead?
    private var upstreamHead: HTTPRequestHead?
    /// The instance the request went to, its in-flight count and the one retry.
    private var upstream = UpstreamChoice()
    private var keepAlive = true
    private var requestComplete = false
    private var responseStarted = false
    private var bodyBytes: Int64 = 0
    /// When the request body last made progress, and the timer that checks it (armed while
    /// a body is expected).
    private var lastBodyProgress = NIODeadline.now()
    private var bodyTimer: Scheduled<Void>?
    /// Armed while the client connection is unwritable: a reader that never catches up.
    private var sendTimer = SendTimer()
    /// Counts requests on this connection, so a late cold-start answer for an earlier one
    /// is recognised and ignored.
    private var requestNumber = 0
    /// What the request was routed by, to route it again once an instance is ready.
    private var routeHost = ""
    private var routePath = ""
    /// The protocol the client asked to switch to (`Upgrade` + `Connection: upgrade`).
    private var upgrade: String?
    /// The upstream agreed (101): once its head is relayed, the connection becomes a tunnel.
    private var switchingProtocols = false

    /// The client: its address for `X-Forwarded-For`, its trust, its per-client slots.
    private var peer = ClientPeer()
    /// The current request holds one of its client's slots (`ClientRequestLimiter`).

    /// Parts of pipelined requests that arrived while an exchange was still in flight,
    /// served in order once it finishes. (Reads are paused meanwhile, so this stays small.)
    /// Doing this here rather than with NIO's pipelining assistance keeps the usual keep-alive
    /// request free of read-interest changes: two `epoll_ctl` calls per request saved.
    private var queued: [HTTPServerRequestPart] = []
    /// A drain asked this connection to close after its current exchange.
    private var quiescing = false
    /// The last response on this connection is written; it closes once that is sent.
    private var closing = false
    /// The server is being replaced: every response from now on ends its connection, and says
    /// so, so a client never sends a request into a connection that is closing.
    private var handingOff = false
    /// Inside a burst of reads from the client: `channelReadComplete` flushes the upstream
    /// connection once at its end, so writes made meanwhile need no flush of their own.
    private var readingFromClient = false

    // Back-pressure on the client connection.
    private var reads = ReadGate()

    init(
        shared: ProxyShared, pool: UpstreamPool, connectionGuard: ConnectionGuard?, scheme: String,
        redirect: HTTPSRedirect?, multiplexed: Bool = false, handingOff: Bool = false
    ) {
        self.handingOff = handingOff
        self.shared = shared
        self.pool = pool
        self.scheme = scheme
        self.redirect = redirect
        self.connectionGuard = connectionGuard
        self.multiplexed = multiplexed
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
        // A response that ended the connection was sent: whatever the client sent after that
        // request (a body being dropped, a request hidden behind it) is never served.
        guard !closing else { return }
        readingFromClient = true
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || (isHead(part) && !isIdle) {
            queued.append(part)
            pauseReads()
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head): requestStarted(head, context: context)
        case .body(let buffer): requestBody(buffer, context: context)
        case .end(let trailers): requestEnded(trailers)
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private func isHead(_ part: HTTPServerRequestPart) -> Bool {
        if case .head = part { return true }
        return false
    }

    /// The previous exchange finished: serve what was pipelined behind it.
    private func exchangeFinished() {
        connectionGuard?.exchangeFinished()
        guard let context else { return }
        while !queued.isEmpty {
            if isHead(queued[0]) && !isIdle { return }
            handle(queued.removeFirst(), context: context)
        }
        resumeReads()
    }

    private func requestStarted(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        connectionGuard?.headReceived()
        requestNumber &+= 1
        requestHead = head
        // A stream ends with its response; the connection's life is not the stream's business.
        keepAlive = multiplexed || (head.isKeepAlive && !handingOff)
        requestComplete = false
        responseStarted = false
        bodyBytes = 0
        switchingProtocols = false
        let facts = HeaderRewriter.facts(of: head.headers)
        // HTTP/2 has no Upgrade (RFC 9113 §8.6): WebSockets arrive over HTTP/1.1 connections.
        upgrade = facts.connectionUpgrade && !multiplexed ? facts.upgrade : nil

        if head.uri.utf8.count > shared.configuration.maxURIBytes {
            return answer(.uriTooLong, close: true)
        }
        if let length = facts.contentLength.flatMap({ Int64($0) }), length > shared.configuration.maxBodyBytes {
            return answer(.payloadTooLarge, close: true)
        }
        guard facts.hostCount == 1 || (facts.hostCount == 0 && head.version == .http1_0) else {
            return answer(.badRequest, close: true)
        }
        if facts.transferEncodingCount > 0 {
            // HTTP/1.0 has no transfer codings: its framing cannot be trusted (RFC 9112 §6.1).
            guard head.version != .http1_0 else { return answer(.badRequest, close: true) }
            // Anything but one `chunked` (`gzip, chunked`, two lines): the proxy would forward
            // the body without the other codings, so it says it does not implement them.
            guard facts.transferEncodingCount == 1, facts.transferEncodingIsChunked else {
                return answer(ErrorPage(status: .notImplemented), close: true)
            }
        }
        let (host, path) = Self.target(of: head.uri, host: facts.host ?? "")
        if path == "/_tako/status", let status = shared.statusHandler {
            let (code, body) = status()
            return answer(ErrorPage(status: code), body: body, contentType: "application/json")
        }
        if scheme == "http", let keyAuthorization = shared.challenges?.answer(for: path) {
            return answer(ErrorPage(status: .ok), body: context.channel.allocator.buffer(string: keyAuthorization), contentType: "text/plain")
        }
        if let redirect, let location = redirect.location(host: host, target: path) {
            let status: HTTPResponseStatus = head.method == .GET || head.method == .HEAD ? .movedPermanently : .permanentRedirect
            return answer(ErrorPage(status: status, extraHeaders: [("location", location)]))
        }
        guard let backend = shared.snapshots.snapshot.backend(host: host, path: path) else {
            if let (status, page) = shared.unmatchedHandler?(host) {
                return answer(ErrorPage(status: status), body: context.channel.allocator.buffer(string: page))
            }
            return answer(.notFound)
        }
        let endpoint = backend.pick()
        if endpoint == nil && backend.coldStart == nil {
            return answer(.serviceUnavailable)
        }
        guard peer.takeSlot() else { return answer(.tooManyRequests) }
        if facts.expectsContinue {
            // Answered here (as nginx does): the client sends its body, the proxy streams it.
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        upstream.begin(backend)
        routeHost = host
        routePath = path
        let requestIDs = shared.requestIDs
        upstreamHead = HeaderRewriter.upstreamRequest(
            head, clientAddress: peer.address, trustedPeer: peer.isTrusted, scheme: scheme,
            upgrade: upgrade, requestID: { requestIDs.next() })
        if let endpoint {
            send(to: endpoint)
        } else if let gate = backend.coldStart {
            waitForInstance(gate, context: context)
        }
    }

    /// Holds the request until the owner has started an instance of the app.
    private func waitForInstance(_ gate: ColdStartGate, context: ChannelHandlerContext) {
        state = .waitingForInstance(pending: [])
        pauseReads()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let number = requestNumber
        let registered = gate.wait(on: context.eventLoop, timeout: shared.configuration.coldStartTimeout) { outcome in
            handler.value.instanceWaitEnded(outcome, requestNumber: number)
        }
        if !registered {
            answer(.serviceUnavailable)
        }
    }

    private func instanceWaitEnded(_ outcome: ColdStartGate.Outcome, requestNumber number: Int) {
        guard number == requestNumber, context != nil, case .waitingForInstance(let pending) = state else { return }
        switch outcome {
        case .ready:
            // Route again: the owner published a snapshot with the new instance.
            if let backend = shared.snapshots.snapshot.backend(host: routeHost, path: routePath), let endpoint = backend.pick() {
                upstream.begin(backend)
                send(to: endpoint, pending: pending)
            } else {
                answer(.badGateway, close: !requestComplete)
            }
        case .failed:
            answer(.badGateway, close: !requestComplete)
        case .timedOut:
            answer(.gatewayTimeout, close: !requestComplete)
        }
    }

    /// Takes an idle connection to `endpoint` or opens one, then relays the request with the
    /// parts that already arrived.
    private func send(to endpoint: UpstreamEndpoint, pending: [HTTPClientRequestPart] = []) {
        guard let upstreamHead else { return }
        upstream.send(to: endpoint)
        if let connection = pool.take(endpoint.address) {
            relay(over: connection, head: upstreamHead, pending: pending)
            return
        }
        state = .connecting(pending: pending)
        pauseReads()
        let handler = NIOLoopBound(self, eventLoop: pool.eventLoop)
        pool.connect(endpoint.address).whenComplete { result in
            handler.value.connected(result, endpoint: endpoint)
        }
    }

    private func relay(over connection: UpstreamConnection, head: HTTPRequestHead, pending: [HTTPClientRequestPart]) {
        state = .proxying(connection)
        connection.begin(delegate: self, head: head, responseTimeout: shared.configuration.upstreamResponseTimeout)
        for part in pending { connection.write(part, flush: false) }
        if !readingFromClient { connection.flush() }
        resumeReads()
    }

    private func connected(_ result: Result<UpstreamConnection, any Error>, endpoint: UpstreamEndpoint) {
        guard case .connecting(let pending) = state, endpoint === upstream.endpoint, let upstreamHead else {
            // The client left meanwhile: keep the connection for someone else.
            if case .success(let connection) = result { connection.release(reusable: true) }
            return
        }
        switch result {
        case .success(let connection):
            relay(over: connection, head: upstreamHead, pending: pending)
        case .failure:
            // Nothing reached the upstream: an idempotent request may try another instance once.
            if let other = upstream.connectFailed(idempotent: requestHead?.method.isIdempotent == true) {
                send(to: other, pending: pending)
                return
            }
            state = .answeredLocally
            resumeReads()
            answer(.badGateway, close: !requestComplete)
        }
    }

    /// Arms the body clock for the request just begun (see `bodyTimeout`).
    private func watchBody(context: ChannelHandlerContext) {
        lastBodyProgress = .now()
        bodyTimer?.cancel()
        let timeout = shared.configuration.bodyTimeout
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let number = requestNumber
        bodyTimer = context.eventLoop.scheduleTask(in: timeout) { handler.value.checkBody(requestNumber: number) }
    }

    private func checkBody(requestNumber number: Int) {
        bodyTimer = nil
        guard let context, number == requestNumber, !requestComplete, context.channel.isActive else { return }
        let timeout = shared.configuration.bodyTimeout
        // Reads this proxy paused (an app taking the body slowly) are not the client's delay.
        let since = reads.isPaused ? .now() : lastBodyProgress
        if reads.isPaused { lastBodyProgress = .now() }
        let idle = NIODeadline.now() - since
        guard idle >= timeout else {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            bodyTimer = context.eventLoop.scheduleTask(in: timeout - idle) { handler.value.checkBody(requestNumber: number) }
            return
        }
        abandonUpstream()
        if responseStarted {
            context.close(promise: nil)
        } else {
            state = .answeredLocally
            answer(ErrorPage(status: .requestTimeout), close: true)
        }
    }

    private func requestBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        lastBodyProgress = .now()
        bodyBytes += Int64(buffer.readableBytes)
        if bodyBytes > shared.configuration.maxBodyBytes {
            abandonUpstream()
            if responseStarted {
                context.close(promise: nil)
            } else {
                state = .answeredLocally
                answer(.payloadTooLarge, close: true)
            }
            return
        }
        switch state {
        case .waitingForInstance(var pending):
            pending.append(.body(.byteBuffer(buffer)))
            state = .waitingForInstance(pending: pending)
        case .connecting(var pending):
            pending.append(.body(.byteBuffer(buffer)))
            state = .connecting(pending: pending)
        case .proxying(let connection):
            connection.write(.body(.byteBuffer(buffer)), flush: false)
            if !connection.isWritable { pauseReads() }
        case .idle, .answeredLocally:
            break
        }
    }

    private func requestEnded(_ trailers: HTTPHeaders?) {
        requestComplete = true
        bodyTimer?.cancel()
        bodyTimer = nil
        switch state {
        case .waitingForInstance(var pending):
            pending.append(.end(nil))
            state = .waitingForInstance(pending: pending)
        case .connecting(var pending):
            pending.append(.end(nil))
            state = .connecting(pending: pending)
        case .proxying(let connection):
            connection.write(.end(nil), flush: !readingFromClient)
        case .answeredLocally:
            state = .idle
            exchangeFinished()
        case .idle:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readingFromClient = false
        // A body still to come after this burst of reads gets its clock (a request whose end
        // arrived with its head, nearly all of them, never needs one).
        if bodyTimer == nil, !requestComplete, !isIdle, requestHead != nil, context.channel.isActive {
            watchBody(context: context)
        }
        if case .proxying(let connection) = state { connection.flush() }
        context.fireChannelReadComplete()
    }

    // MARK: Upstream → client

    func upstreamResponseHead(_ head: HTTPResponseHead) {
        guard let context, let requestHead else { return }
        if head.status == .continue { return }
        responseStarted = true
        // A response that arrives before the request body finished ends this connection:
        // the rest of that body can no longer be told apart from a next request.
        if !requestComplete { keepAlive = false }
        if upgrade != nil {
            if head.status == .switchingProtocols {
                switchingProtocols = true
            } else {
                // Refused: the parser stopped at the upgrade request, so this connection
                // cannot carry another request.
                keepAlive = false
            }
        }
        var rewritten = HeaderRewriter.clientResponse(head, keepAlive: keepAlive, clientVersion: requestHead.version)
        if switchingProtocols {
            rewritten.headers.replaceOrAdd(name: "connection", value: "upgrade")
            rewritten.headers.replaceOrAdd(name: "upgrade", value: head.headers.first(name: "upgrade") ?? upgrade ?? "")
        }
        context.write(wrapOutboundOut(.head(rewritten)), promise: nil)
    }

    func upstreamResponseBody(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if !context.channel.isWritable, case .proxying(let connection) = state {
            connection.pauseReads()
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamResponseEnd() {
        guard let context, case .proxying(let connection) = state else { return }
        upstream.finish()
        if switchingProtocols {
            return startTunnel(context: context, upstream: connection)
        }
        connection.release(reusable: requestComplete)
        // The connection is back in the pool and no longer this handler's: ending an HTTP/2
        // stream runs channelInactive inside the write below, which must not close it.
        state = requestComplete ? .idle : .answeredLocally
        finishResponse(context: context)
    }

    /// After `101 Switching Protocols`: both connections drop their HTTP handlers and relay
    /// raw bytes to each other until one of them closes.
    private func startTunnel(context: ChannelHandlerContext, upstream: UpstreamConnection) {
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        guard let upstreamChannel = upstream.channel else {
            context.close(promise: nil)
            return
        }
        let client = context.channel
        state = .idle
        peer.releaseSlot()
        queued.removeAll()
        upstream.detachForTunnel()
        let clientTunnel = TunnelHandler(partner: upstreamChannel)
        let upstreamTunnel = TunnelHandler(partner: client)
        do {
            let clientPipeline = client.pipeline.syncOperations
            let upstreamPipeline = upstreamChannel.pipeline.syncOperations
            try clientPipeline.addHandler(clientTunnel)
            try upstreamPipeline.addHandler(upstreamTunnel)
            clientPipeline.removeHandler(context: context, promise: nil)
            for type in [HTTPResponseEncoder.self, ConnectionGuard.self] as [any ChannelHandler.Type] {
                clientPipeline.removeHandler(context: try clientPipeline.context(handlerType: type), promise: nil)
            }
            for type in [UpstreamConnection.self, HTTPRequestEncoder.self] as [any ChannelHandler.Type] {
                upstreamPipeline.removeHandler(context: try upstreamPipeline.context(handlerType: type), promise: nil)
            }
            // Decoders leave on a later tick (handing on their leftovers); the tunnel opens
            // once both are gone.
            let clientDecoderGone = client.eventLoop.makePromise(of: Void.self)
            let upstreamDecoderGone = client.eventLoop.makePromise(of: Void.self)
            clientPipeline.removeHandler(
                context: try clientPipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self),
                promise: clientDecoderGone)
            upstreamPipeline.removeHandler(
                context: try upstreamPipeline.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self),
                promise: upstreamDecoderGone)
            let tunnels = NIOLoopBound((clientTunnel, upstreamTunnel), eventLoop: client.eventLoop)
            clientDecoderGone.futureResult.and(upstreamDecoderGone.futureResult).whenComplete { result in
                switch result {
                case .success:
                    tunnels.value.0.open()
                    tunnels.value.1.open()
                case .failure:
                    client.close(promise: nil)
                    upstreamChannel.close(promise: nil)
                }
            }
        } catch {
            client.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
        client.read()
        upstreamChannel.read()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() } else { pauseReads() }
    }

    func upstreamFailed(timedOut: Bool) {
        upstream.finish()
        guard let context else { return }
        if responseStarted {
            // Part of the response is out: the only honest signal left is closing.
            context.close(promise: nil)
            return
        }
        state = .answeredLocally
        answer(timedOut ? .gatewayTimeout : .badGateway, close: !requestComplete)
    }

    // MARK: Local answers

    private func answer(
        _ page: ErrorPage, body: ByteBuffer? = nil, contentType: String? = nil, close: Bool = false
    ) {
        guard let context, let requestHead else { return }
        if close { keepAlive = false }
        state = requestComplete ? .idle : .answeredLocally
        let body = body ?? context.channel.allocator.buffer(string: page.body())
        var head = page.head(version: requestHead.version, keepAlive: keepAlive, contentLength: body.readableBytes)
        if let contentType { head.headers.replaceOrAdd(name: "content-type", value: contentType) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if requestHead.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        responseStarted = true
        finishResponse(context: context)
    }

    private func finishResponse(context: ChannelHandlerContext) {
        peer.releaseSlot()
        let close = !keepAlive || quiescing
        if close {
            closing = true
            queued.removeAll()
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
            let channel = context.channel
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        if requestComplete {
            state = .idle
            if !close { exchangeFinished() }
        } else {
            // The rest of this request's body is read and dropped (or the connection closes).
            if case .proxying = state { state = .answeredLocally }
            if !close { resumeReads() }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ProxyHandoffEvent {
            handingOff = true
            // A response not begun yet can still say `Connection: close`; one already on its
            // way said keep-alive, so the connection ends after the next one instead.
            if !multiplexed, !isIdle, !responseStarted { keepAlive = false }
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            return context.fireUserInboundEventTriggered(event)
        }
        // A drain: an idle connection closes now, a busy one after its current response.
        quiescing = true
        keepAlive = false
        // A connection part-way through a request head is not idle: that request is answered
        // (with `Connection: close`) rather than cut off.
        if isIdle && queued.isEmpty && connectionGuard?.isBetweenRequests ?? true { context.close(promise: nil) }
    }

    /// Drops the upstream connection of the current request, never to be reused.
    private func abandonUpstream() {
        if case .proxying(let connection) = state {
            connection.release(reusable: false)
        }
        upstream.finish()
    }

    // MARK: Connection events

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .proxying(let connection):
            // The upstream may still be sending a response nobody will read.
            connection.release(reusable: false)
        case .connecting, .idle, .answeredLocally, .waitingForInstance:
            break
        }
        upstream.finish()
        state = .idle
        peer.releaseSlot()
        bodyTimer?.cancel()
        sendTimer.cancel()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request the parser rejects (ambiguous framing, bad chunk sizes, obs-fold, NUL or
        // bare CR, ...) is answered 400 when no response has started, and the connection ends
        // either way: whatever follows on it cannot be trusted. (This replaces NIO's
        // HTTPServerProtocolErrorHandler, saving a handler hop on every write.)
        if error is HTTPParserError, !responseStarted || isIdle {
            var headers = HTTPHeaders()
            headers.add(name: "connection", value: "close")
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        switch state {
        case .proxying(let connection): connection.release(reusable: false)
        default: break
        }
        state = .answeredLocally
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

    private func pauseReads() {
        reads.pause()
    }

    private func resumeReads() {
        if reads.resume() { context?.read() }
    }

    // MARK: Request target

    /// The host and path a request is routed by. An absolute-form target
    /// (`http://host/path`) names its own host (RFC 9112 §3.2.2).
    static func target(of uri: String, host: String) -> (host: String, path: String) {
        let bytes = uri.utf8
        guard let first = bytes.first, first != UInt8(ascii: "/"), first != UInt8(ascii: "*") else { return (host, uri) }
        // "scheme://authority/path": find "://", then the first "/" after it.
        var index = bytes.startIndex
        var colonSlashSlash: String.Index?
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":"),
                bytes[bytes.index(after: index)...].starts(with: "//".utf8)
            {
                colonSlashSlash = index
                break
            }
            index = bytes.index(after: index)
        }
        guard let colonSlashSlash else { return (host, uri) }
        let authorityStart = bytes.index(colonSlashSlash, offsetBy: 3)
        let rest = uri[authorityStart...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        return (String(rest[..<slash]), slash == rest.endIndex ? "/" : String(rest[slash...]))
    }
}

extension HTTPMethod {
    /// Methods that may be retried on another instance when nothing reached the first one.
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }
}

extension ErrorPage {
    static let uriTooLong = ErrorPage(status: .uriTooLong)
    static let payloadTooLarge = ErrorPage(status: .payloadTooLarge)
}
