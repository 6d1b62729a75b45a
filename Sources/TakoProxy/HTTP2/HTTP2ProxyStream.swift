import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// One HTTP/2 stream's plain request, relayed without a channel of its own: the HPACK header
/// block is written straight into an HTTP/1.1 request head for a raw upstream connection
/// (`RawUpstreamConnection`), and the upstream's response goes back as a header block
/// written from the upstream's bytes and DATA frames carrying its own buffers, framed on the
/// connection by `HTTP2ServerConnection`, which owns every stream it took.
///
/// The connection takes a stream whose first frame is a complete request without a body,
/// with only the usual pseudo-headers, headers that are valid HTTP/1.1 fields, and a route to
/// a healthy instance (`HTTP2ServerConnection.startRelay`). Any other stream goes to
/// NIOHTTP2's stream channels with NIO's HTTP/2-to-HTTP/1 codec and a `ProxyHandler`.
final class HTTP2ProxyStream: RawUpstreamDelegate, RawUpstreamSender {
    private enum State {
        case connecting(UpstreamEndpoint)
        case proxying(RawUpstreamConnection)
        case done
    }

    /// Body bytes a stream may hand to NIOHTTP2 without counting them: a whole small response
    /// costs no promise. Past them, every DATA frame's promise says when it left, and the
    /// upstream is paused while more than `highWater` bytes wait (the client's window is
    /// shut, or it reads slowly), resumed at `lowWater`.
    private static let freeBytes = 16 * 1024
    private static let highWater = 32 * 1024
    private static let lowWater = 8 * 1024

    let id: HTTP2StreamID
    private let owner: HTTP2ServerConnection
    private var state: State
    private let upstreamRequest: ByteBuffer
    var upstream = UpstreamChoice()
    private let isHEAD: Bool
    let isIdempotentRequest: Bool
    private var holdsSlot = true
    private var responseStarted = false
    /// The frame carrying END_STREAM (or a reset) is written: nothing more goes to the client.
    /// Set before that write, whose stream-closed event comes back at once, maybe before the
    /// upstream connection has finished its read: the stream stays in the connection's table
    /// (which keeps it alive for that connection) until `finish`.
    private var ended = false
    /// The last body buffer of a read burst, held so the final one can carry END_STREAM.
    private var heldBody: ByteBuffer?
    private var free = HTTP2ProxyStream.freeBytes
    private var unsent = 0
    private var paused = false

    /// The caller has taken a client slot for the request, which the stream gives back when
    /// its response ends; `begin` sends it.
    init(id: HTTP2StreamID, owner: HTTP2ServerConnection, request: ByteBuffer, method: String, backend: AppBackend, endpoint: UpstreamEndpoint) {
        self.id = id
        self.owner = owner
        self.upstreamRequest = request
        isHEAD = method == "HEAD"
        isIdempotentRequest = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"].contains(method)
        state = .connecting(endpoint)
        upstream.begin(backend)
    }

    /// Called once the connection handler has the stream in its table: an answer can end it
    /// at once (a connection refused on the spot).
    func begin() {
        guard case .connecting(let endpoint) = state else { return }
        send(to: endpoint)
    }

    // MARK: RawUpstreamSender

    var pool: UpstreamPool { owner.pool }
    /// One request per stream.
    var requestToken: Int { 0 }

    func connecting(to endpoint: UpstreamEndpoint) {
        state = .connecting(endpoint)
    }

    func isConnecting(to endpoint: UpstreamEndpoint, token: Int) -> Bool {
        guard case .connecting(let current) = state else { return false }
        return current === endpoint
    }

    func relay(over connection: RawUpstreamConnection) {
        state = .proxying(connection)
        connection.begin(
            delegate: self, head: upstreamRequest, isHEAD: isHEAD, dataOnly: true,
            responseTimeout: owner.shared.configuration.upstreamResponseTimeout)
    }

    func noConnection() {
        answer(.badGateway)
    }

    // MARK: Upstream → client

    func upstreamHead(_ head: RawResponseHead, lines: [RawHeaderLine], bytes: ByteBuffer, body: Int, complete: Bool) {
        responseStarted = true
        // The header block straight from the upstream's bytes, as HPACK literals.
        var block = owner.allocator.buffer(capacity: bytes.readableBytes + 16)
        HPACKLiteralEncoder.writeStatus(head.status, into: &block)
        bytes.withUnsafeReadableBytes { raw in
            let named = head.connectionNamesHeaders ? RawHeadWriter.connectionTokens(lines, from: raw) : []
            for line in lines where RawHeadWriter.reachesClient(line, named: named, in: raw) {
                var nameEnd = line.start
                while raw[nameEnd] != UInt8(ascii: ":") { nameEnd += 1 }
                HPACKLiteralEncoder.writeField(
                    name: UnsafeRawBufferPointer(rebasing: raw[line.start..<nameEnd]),
                    value: UnsafeRawBufferPointer(rebasing: raw[line.valueStart..<line.valueEnd]), into: &block)
            }
        }
        let noBody = complete && body == 0
        if noBody { ended = true }
        owner.sendHeaders(id, block: block, endStream: noBody)
        // DATA frames are the connection's own to build: the body's start goes as a body.
        if body > 0 { upstreamBody(bytes.getSlice(at: bytes.readerIndex + head.length, length: body)!) }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard !ended else { return }
        if let heldBody { writeBody(heldBody, endStream: false) }
        heldBody = buffer
    }

    func upstreamReadComplete() {
        if let heldBody {
            self.heldBody = nil
            writeBody(heldBody, endStream: false)
        }
        owner.flush()
    }

    func upstreamEnd() {
        if !ended {
            let last = heldBody ?? owner.allocator.buffer(capacity: 0)
            heldBody = nil
            ended = true
            writeBody(last, endStream: true)
        }
        finish(reusable: true)
        owner.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamFailed(timedOut: Bool) {
        guard !responseStarted else {
            finish(reusable: false)
            if !ended {
                ended = true
                owner.write(HTTP2Frame(streamID: id, payload: .rstStream(.internalError)), promise: nil)
                owner.flush()
            }
            return
        }
        answer(timedOut ? .gatewayTimeout : .badGateway)
    }

    private func answer(_ page: ErrorPage) {
        finish(reusable: false)
        responseStarted = true
        ended = true
        let body = page.body()
        var headers = HPACKHeaders()
        headers.add(name: ":status", value: String(page.status.code))
        for (name, value) in page.fields(keepAlive: true, contentLength: body.utf8.count) { headers.add(name: name, value: value) }
        owner.write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: isHEAD))), promise: nil)
        if !isHEAD {
            let buffer = owner.allocator.buffer(string: body)
            owner.write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(buffer), endStream: true))), promise: nil)
        }
        owner.flush()
    }

    // MARK: Back-pressure

    private func writeBody(_ buffer: ByteBuffer, endStream: Bool) {
        let frame = HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(buffer), endStream: endStream)))
        let bytes = buffer.readableBytes
        if bytes <= free {
            free -= bytes
            return owner.write(frame, promise: nil)
        }
        unsent += bytes
        let promise = owner.eventLoop.makePromise(of: Void.self)
        let stream = NIOLoopBound(self, eventLoop: owner.eventLoop)
        promise.futureResult.whenComplete { _ in stream.value.left(bytes) }
        owner.write(frame, promise: promise)
        if unsent > Self.highWater { pause() }
    }

    private func left(_ bytes: Int) {
        unsent -= bytes
        if unsent <= Self.lowWater, owner.isWritable { resume() }
    }

    /// The connection's socket stopped (or started) taking bytes: every stream waits with it.
    func connectionWritabilityChanged(isWritable: Bool) {
        if !isWritable {
            pause()
        } else if unsent <= Self.lowWater {
            resume()
        }
    }

    private func pause() {
        guard !paused, case .proxying(let connection) = state else { return }
        paused = true
        connection.pauseReads()
    }

    private func resume() {
        guard paused, case .proxying(let connection) = state else { return }
        paused = false
        connection.resumeReads()
    }

    // MARK: The end

    /// The response is complete (or abandoned): the upstream connection, the instance's
    /// in-flight count and the client's slot are given back, once, and the connection handler
    /// forgets the stream.
    private func finish(reusable: Bool) {
        if case .proxying(let connection) = state {
            connection.release(reusable: reusable)
        }
        state = .done
        upstream.finish()
        if holdsSlot {
            holdsSlot = false
            owner.peer.release()
        }
        owner.streamFinished(id)
    }

    /// NIOHTTP2 closed the stream. Unless its last frame was written, the client reset it:
    /// the upstream connection is closed, since its response was not read to the end.
    func streamClosed() {
        if !ended { abandon() }
    }

    /// The connection is going away: whatever the stream still waits for is dropped.
    func abandon() {
        ended = true
        heldBody = nil
        finish(reusable: false)
    }
}
