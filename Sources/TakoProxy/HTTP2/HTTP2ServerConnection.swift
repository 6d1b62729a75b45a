import NIOCore
import NIOHPACK
import NIOHTTP2

/// The server side of one HTTP/2 connection (RFC 9113), framed by Tako itself: the frame
/// layer, HPACK decoding (NIOHPACK's decoder), flow control both ways, stream states, and
/// the limits a hostile client meets.
///
/// Two kinds of stream:
/// - Relayed: a whole request in one HEADERS frame, with plain fields and a route to a healthy
///   instance. `HTTP2ProxyStream` answers it from its frames alone, with no channel, pipeline
///   or codec of its own: for small requests that machinery was most of the proxy's CPU.
/// - Channel streams: every other one (a body, trailers, the status page, every local answer).
///   Their frames go on, as `HTTP2Frame`s with NIOHTTP2's stream events, to NIOHTTP2's
///   `HTTP2StreamMultiplexer` behind this handler, which gives each a stream channel with
///   NIO's HTTP/2-to-HTTP/1 codec and a `ProxyHandler`; the frames those write come back
///   through `write` and are framed here.
///
/// Why not NIOHTTP2's own connection handler: a profile of small requests over HTTP/2 spent
/// a quarter of the proxy's CPU in its per-frame state machine, validation, flow-control
/// buffers and HPACK encoder, where this handler does the same work in a few passes over the
/// bytes (docs/proxy.md, "HTTP/2").
///
/// Limits (what NIOHTTP2 enforced, and nginx): frames up to 16 KiB; header blocks (with
/// their CONTINUATIONs) up to `maxHeadBytes` plus 16 KiB, decoded lists up to `maxHeadBytes`;
/// `maxConcurrentStreams` open streams (more are refused); at most `resetBudget` streams reset
/// by either side (rapid reset, and resets a client provokes) and `glitchBudget` tolerated
/// protocol oddities per 30 seconds; at most `controlBudget` control frames answered while
/// the client does not read. Going over one costs the connection: GOAWAY with
/// ENHANCE_YOUR_CALM, then close.
final class HTTP2ServerConnection: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = ByteBuffer

    static let preface: StaticString = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    /// SETTINGS_MAX_FRAME_SIZE left at its default: the largest frame a client may send.
    static let maxFrameSize = 16_384
    /// The stream window (SETTINGS_INITIAL_WINDOW_SIZE) left at its default.
    static let initialWindow = 65_535
    /// The connection's receive window, opened at the start and topped up at half: the stream
    /// windows are what bound a client's unread data.
    static let connectionWindow = 1 << 20
    static let resetBudget = 200
    static let glitchBudget = 400
    static let controlBudget = 10_000
    static let budgetPeriod = TimeAmount.seconds(30)

    let shared: ProxyShared
    let pool: UpstreamPool
    let scheme: String
    let connectionGuard: HTTP2ConnectionGuard
    var context: ChannelHandlerContext?
    private(set) var peer = ClientPeer()

    /// Streams not yet closed (RFC 9113 §5.1): a short list, scanned rather than hashed.
    var streams: [HTTP2StreamRecord] = []
    /// Relayed streams until they are done with their upstream, which may be before or after
    /// their protocol stream closes. The list keeps them alive: an upstream connection holds
    /// its delegate weakly.
    var relays: [HTTP2ProxyStream] = []
    /// Client stream IDs only grow: one above this is idle, one at or below it that is not in
    /// `streams` is closed.
    var highestStreamID = HTTP2StreamID.rootStream
    var decoder: HPACKDecoder

    // Reading
    var inbound: ByteBuffer?
    var prefaceSeen = false
    /// A header block waiting for its CONTINUATION frames.
    var headerBlock: (id: HTTP2StreamID, block: ByteBuffer, endStream: Bool)?
    var receiveWindow = HTTP2ServerConnection.connectionWindow
    var closing = false
    /// The client sent GOAWAY: it opens no more streams.
    var peerGoingAway = false
    /// We sent GOAWAY: streams above this one are ignored.
    var goAwayStreamID: HTTP2StreamID?

    // Writing
    var out: ByteBuffer
    /// Promises of the frames in `out`, kept until it is written.
    var outPromises: [EventLoopPromise<Void>] = []
    /// The connection's send window: what the client admits before its next WINDOW_UPDATE.
    var sendWindow = 65_535
    /// The client's SETTINGS_INITIAL_WINDOW_SIZE and SETTINGS_MAX_FRAME_SIZE.
    var peerInitialWindow = 65_535
    var peerMaxFrameSize = 16_384
    /// Stream events for the multiplexer, delivered after the frame (or write) that caused them.
    var pendingEvents: [Any] = []
    /// Pipeline writes in progress (a stream channel's write can lead to another): events wait
    /// for the outermost to end, as NIOHTTP2 delivered them.
    var writing = 0
    /// Streams closed since the last flush, not yet told to the guard.
    var closedStreams = 0

    // Budgets
    var budgetStart = NIODeadline.uptimeNanoseconds(0)
    var resets = 0
    var glitches = 0
    var controlAnswers = 0

    init(shared: ProxyShared, pool: UpstreamPool, scheme: String, connectionGuard: HTTP2ConnectionGuard) {
        self.shared = shared
        self.pool = pool
        self.scheme = scheme
        self.connectionGuard = connectionGuard
        let allocator = ByteBufferAllocator()
        decoder = HPACKDecoder(
            allocator: allocator, maxDynamicTableSize: HPACKDecoder.maxDynamicTableSize,
            maxHeaderListSize: shared.configuration.maxHeadBytes)
        out = allocator.buffer(capacity: 1024)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 1024)
        peer = ClientPeer(channel: context.channel, shared: shared)
        budgetStart = .now()
        // The server's preface: SETTINGS, then the larger connection window.
        let configuration = shared.configuration
        writeFrameHeader(length: 12, type: .settings, flags: 0, stream: .rootStream)
        out.writeInteger(UInt16(0x3))
        out.writeInteger(UInt32(configuration.maxConcurrentStreams))
        out.writeInteger(UInt16(0x6))
        out.writeInteger(UInt32(configuration.maxHeadBytes))
        writeFrameHeader(length: 4, type: .windowUpdate, flags: 0, stream: .rootStream)
        out.writeInteger(UInt32(Self.connectionWindow - 65_535))
        flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandonAll()
        peer.leave()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        abandonAll()
        context.fireChannelInactive()
    }

    private func abandonAll() {
        let open = relays
        relays = []
        for relay in open { relay.abandon() }
        for record in streams { record.failQueued() }
        streams = []
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let isWritable = context.channel.isWritable
        if isWritable { controlAnswers = 0 }
        for relay in relays { relay.connectionWritabilityChanged(isWritable: isWritable) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: For the relayed streams

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }
    var eventLoop: any EventLoop { pool.eventLoop }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>?) {
        send(frame, promise: promise)
    }

    func flush() {
        guard let context else { return }
        emit()
        context.flush()
        // The guard may close the connection when its last stream closes: told only now, after
        // that stream's last frames left this handler.
        while closedStreams > 0, !closing {
            closedStreams -= 1
            connectionGuard.streamClosed()
        }
    }

    func streamFinished(_ id: HTTP2StreamID) {
        if let index = relays.firstIndex(where: { $0.id == id }) { relays.remove(at: index) }
    }

    // MARK: Pipeline (the multiplexer's stream channels, the guard's GOAWAY)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writing += 1
        send(unwrapOutboundIn(data), promise: promise)
        writing -= 1
        if writing == 0 { deliverEvents() }
    }

    func flush(context: ChannelHandlerContext) {
        flush()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var held = inbound {
            inbound = nil
            held.writeBuffer(&bytes)
            bytes = held
        }
        guard !closing else { return }
        if !prefaceSeen {
            let length = Self.preface.utf8CodeUnitCount
            let seen = min(length, bytes.readableBytes)
            let expected = UnsafeRawBufferPointer(start: Self.preface.utf8Start, count: seen)
            guard bytes.withUnsafeReadableBytes({ $0.prefix(seen).elementsEqual(expected) }) else {
                // Not HTTP/2 (or not its preface): nothing to answer in.
                return close()
            }
            guard seen == length else {
                inbound = bytes
                return
            }
            bytes.moveReaderIndex(forwardBy: length)
            prefaceSeen = true
        }
        while !closing, let header = bytes.peekFrameHeader() {
            guard header.length <= Self.maxFrameSize else { return fail(.frameSizeError) }
            guard bytes.readableBytes >= 9 + header.length else { break }
            bytes.moveReaderIndex(forwardBy: 9)
            let payload = bytes.readSlice(length: header.length)!
            receive(header, payload)
            deliverEvents()
        }
        if !closing, bytes.readableBytes > 0 {
            bytes.discardReadBytes()
            inbound = bytes
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    // MARK: Events for the multiplexer

    func deliverEvents() {
        guard let context, !pendingEvents.isEmpty else { return }
        let events = pendingEvents
        pendingEvents = []
        for event in events { context.fireUserInboundEventTriggered(event) }
    }

    // MARK: Ending the connection

    /// A connection error (RFC 9113 §5.4.1): GOAWAY naming the last stream processed, then close.
    func fail(_ code: HTTP2ErrorCode) {
        guard !closing else { return }
        writeFrameHeader(length: 8, type: .goAway, flags: 0, stream: .rootStream)
        out.writeInteger(UInt32(Int32(highestStreamID)))
        out.writeInteger(UInt32(code.networkCode))
        flush()
        close()
    }

    func close() {
        guard !closing, context != nil else { return }
        closing = true
        inbound = nil
        emit()
        connectionGuard.close()
    }

    /// A stream reset, by the client or for what it did (rapid reset, and resets it provokes);
    /// false once the budget is spent, and the connection failed.
    func spendReset() -> Bool {
        renewBudgets()
        resets += 1
        return within(resets, Self.resetBudget)
    }

    /// Something a correct client seldom does and a hostile one does cheaply: a frame for a
    /// closed stream, an empty DATA or CONTINUATION frame, a refused stream.
    func spendGlitch() -> Bool {
        renewBudgets()
        glitches += 1
        return within(glitches, Self.glitchBudget)
    }

    /// A PING or SETTINGS answered, or a stream reset, while the client does not read.
    func spendControlAnswer() -> Bool {
        guard !isWritable else { return true }
        controlAnswers += 1
        return within(controlAnswers, Self.controlBudget)
    }

    private func renewBudgets() {
        let now = NIODeadline.now()
        guard now - budgetStart > Self.budgetPeriod else { return }
        budgetStart = now
        resets = 0
        glitches = 0
    }

    private func within(_ count: Int, _ limit: Int) -> Bool {
        guard count > limit else { return true }
        fail(.enhanceYourCalm)
        return false
    }
}

extension ByteBuffer {
    /// The 9-byte frame header at the reader index, if it has arrived.
    func peekFrameHeader() -> HTTP2FrameHeader? {
        guard readableBytes >= 9,
            let high = getInteger(at: readerIndex, as: UInt8.self),
            let low = getInteger(at: readerIndex + 1, as: UInt16.self),
            let type = getInteger(at: readerIndex + 3, as: UInt8.self),
            let flags = getInteger(at: readerIndex + 4, as: UInt8.self),
            let stream = getInteger(at: readerIndex + 5, as: UInt32.self)
        else { return nil }
        return HTTP2FrameHeader(
            length: Int(high) << 16 | Int(low), type: type, flags: flags,
            stream: HTTP2StreamID(Int32(bitPattern: stream & 0x7FFF_FFFF)))
    }
}

/// Frame types (RFC 9113 §6).
enum HTTP2FrameKind: UInt8 {
    case data = 0, headers, priority, rstStream, settings, pushPromise, ping, goAway, windowUpdate, continuation
}

struct HTTP2FrameHeader {
    let length: Int
    let type: UInt8
    let flags: UInt8
    let stream: HTTP2StreamID
}
