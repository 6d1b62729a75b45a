import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Sits between NIOHTTP2's connection handler and its stream multiplexer and takes the
/// streams it can relay from their frames alone (`HTTP2ProxyStream`): a stream whose HEADERS
/// frame is a whole request with no body, plain fields and a route to a healthy instance. It
/// answers those on the connection itself, so they cost no channel, pipeline or codec of
/// their own, which for small requests was the largest share of the proxy's CPU.
///
/// Every other stream's frames go on to the multiplexer, which gives it a stream channel with
/// NIO's HTTP/2-to-HTTP/1 codec and a `ProxyHandler`: request bodies (and their flow
/// control), trailers, the status page, and every local answer (404, 503, cold start, 429).
///
/// It also tells the connection guard when streams open and close (NIOHTTP2's events, which
/// cover both kinds).
final class HTTP2ConnectionProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let shared: ProxyShared
    let pool: UpstreamPool
    private let scheme: String
    private let connectionGuard: HTTP2ConnectionGuard
    private var context: ChannelHandlerContext?
    private(set) var peer = ClientPeer()
    /// The streams relayed here that are not finished with their upstream yet. The table keeps
    /// them alive: an upstream connection holds its delegate weakly. A list, not a dictionary:
    /// it holds a few streams (at most `maxConcurrentStreams`), and a short scan is cheaper
    /// than hashing on every frame and event.
    private var streams: [HTTP2ProxyStream] = []
    /// Client stream IDs only grow (RFC 9113 §5.1.1, enforced by NIOHTTP2): a HEADERS frame
    /// above this one opens a stream, any other is a trailer block.
    private var highestStreamID = HTTP2StreamID.rootStream

    init(shared: ProxyShared, pool: UpstreamPool, scheme: String, connectionGuard: HTTP2ConnectionGuard) {
        self.shared = shared
        self.pool = pool
        self.scheme = scheme
        self.connectionGuard = connectionGuard
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = ClientPeer(channel: context.channel, shared: shared)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeStreams()
        peer.leave()
        self.context = nil
    }

    // MARK: For the streams

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }
    var eventLoop: any EventLoop { pool.eventLoop }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func flush() {
        context?.flush()
    }

    /// The stream is done with its upstream and its client slot.
    func streamFinished(_ id: HTTP2StreamID) {
        if let index = streams.firstIndex(where: { $0.id == id }) { streams.remove(at: index) }
    }

    private func stream(_ id: HTTP2StreamID) -> HTTP2ProxyStream? {
        streams.first { $0.id == id }
    }

    // MARK: Frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = frame.streamID
        if id > highestStreamID, case .headers(let headers) = frame.payload {
            highestStreamID = id
            if headers.endStream, let stream = start(id, headers.headers) {
                streams.append(stream)
                return stream.begin()
            }
        } else if id != .rootStream, stream(id) != nil {
            // WINDOW_UPDATE, PRIORITY or RST_STREAM for a stream relayed here: NIOHTTP2 keeps
            // the windows and reports the reset as the stream's close.
            return
        }
        context.fireChannelRead(data)
    }

    /// Routes and sends a request; nil leaves the stream to the multiplexer.
    private func start(_ id: HTTP2StreamID, _ headers: HPACKHeaders) -> HTTP2ProxyStream? {
        guard let address = peer.address,
            let request = HTTP2ProxyStream.Request(headers, maxTargetBytes: shared.configuration.maxURIBytes)
        else { return nil }
        if shared.statusHandler != nil, request.path == "/_tako/status" { return nil }
        guard let backend = shared.snapshots.snapshot.backend(host: request.authority, path: request.path),
            let endpoint = backend.pick(), peer.acquire()
        else { return nil }
        var out = allocator.buffer(capacity: 512)
        request.write(headers, into: &out, clientAddress: address, scheme: scheme, requestIDs: shared.requestIDs)
        return HTTP2ProxyStream(id: id, owner: self, request: out, method: request.method, backend: backend, endpoint: endpoint)
    }

    // MARK: Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A relayed stream's own events end here: the multiplexer behind knows nothing of it.
        switch event {
        case let created as NIOHTTP2StreamCreatedEvent:
            connectionGuard.streamOpened(created.streamID)
            if stream(created.streamID) != nil { return }
        case let closed as StreamClosedEvent:
            connectionGuard.streamClosed()
            if let stream = stream(closed.streamID) { return stream.streamClosed() }
        case let window as NIOHTTP2WindowUpdatedEvent:
            if window.streamID != .rootStream, stream(window.streamID) != nil { return }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let isWritable = context.channel.isWritable
        for stream in streams { stream.connectionWritabilityChanged(isWritable: isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeStreams()
        context.fireChannelInactive()
    }

    private func closeStreams() {
        let open = streams
        streams = []
        for stream in open { stream.abandon() }
    }
}
