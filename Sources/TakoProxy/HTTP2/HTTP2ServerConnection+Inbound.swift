import NIOCore
import NIOHPACK
import NIOHTTP2

/// The client's frames (RFC 9113 §6), each checked as the RFC asks: a connection error ends
/// the connection (`fail`), a stream error resets the stream (`resetStream`).
extension HTTP2ServerConnection {
    func receive(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        // A header block is a unit: nothing may come between its frames (§6.10).
        if let pending = headerBlock, header.type != HTTP2FrameKind.continuation.rawValue || header.stream != pending.id {
            return fail(.protocolError)
        }
        switch HTTP2FrameKind(rawValue: header.type) {
        case .data: receiveData(header, payload)
        case .headers: receiveHeaders(header, payload)
        case .priority:
            // Advisory, and ignored (§5.3.2); only its shape is checked.
            guard header.stream != .rootStream else { return fail(.protocolError) }
            if header.length != 5 { resetStream(header.stream, .frameSizeError) }
        case .rstStream: receiveReset(header, payload)
        case .settings: receiveSettings(header, payload)
        case .pushPromise: fail(.protocolError)
        case .ping: receivePing(header, payload)
        case .goAway:
            guard header.stream == .rootStream else { return fail(.protocolError) }
            peerGoingAway = true
        case .windowUpdate: receiveWindowUpdate(header, payload)
        case .continuation: receiveContinuation(header, payload)
        case nil:
            // Unknown frame types are ignored (§5.5).
            break
        }
    }

    func index(of id: HTTP2StreamID) -> Int? {
        streams.firstIndex { $0.id == id }
    }

    // MARK: DATA

    private func receiveData(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        let id = header.stream
        guard id != .rootStream else { return fail(.protocolError) }
        // The whole frame, padding included, counts against the windows (§6.9.1).
        receiveWindow -= header.length
        guard receiveWindow >= 0 else { return fail(.flowControlError) }
        if receiveWindow < Self.connectionWindow / 2 {
            writeWindowUpdate(.rootStream, increment: Self.connectionWindow - receiveWindow)
            receiveWindow = Self.connectionWindow
        }
        guard let data = unpadded(payload, flags: header.flags) else { return fail(.protocolError) }
        let endStream = header.flags & 0x1 != 0
        guard let index = index(of: id) else {
            guard id <= highestStreamID else { return fail(.protocolError) }
            // A closed stream (§5.1): maybe a reset the client had not seen yet.
            guard spendGlitch() else { return }
            return writeReset(id, .streamClosed)
        }
        guard !streams[index].remoteEnded else { return resetStream(id, .streamClosed) }
        streams[index].receiveWindow -= header.length
        guard streams[index].receiveWindow >= 0 else { return resetStream(id, .flowControlError) }
        streams[index].received += data.readableBytes
        if let expected = streams[index].contentLength {
            guard streams[index].received <= expected, !endStream || streams[index].received == expected else {
                return resetStream(id, .protocolError)
            }
        }
        if data.readableBytes == 0, !endStream {
            guard spendGlitch() else { return }
        }
        if endStream { streams[index].remoteEnded = true }
        let window = streams[index].receiveWindow
        context?.fireChannelRead(wrapInboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(data), endStream: endStream)))))
        pendingEvents.append(NIOHTTP2WindowUpdatedEvent(streamID: id, inboundWindowSize: window, outboundWindowSize: nil))
        if endStream { closeIfDone(id) }
    }

    /// The payload without its padding (§6.1); nil when the padding is longer than the frame.
    private func unpadded(_ payload: ByteBuffer, flags: UInt8) -> ByteBuffer? {
        guard flags & 0x8 != 0 else { return payload }
        var payload = payload
        guard let padding = payload.readInteger(as: UInt8.self), Int(padding) <= payload.readableBytes else { return nil }
        return payload.readSlice(length: payload.readableBytes - Int(padding))
    }

    // MARK: HEADERS and CONTINUATION

    private func receiveHeaders(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        let id = header.stream
        // Client streams are odd (§5.1.1).
        guard id != .rootStream, Int32(id) % 2 == 1 else { return fail(.protocolError) }
        guard var block = unpadded(payload, flags: header.flags) else { return fail(.protocolError) }
        if header.flags & 0x20 != 0 {
            // PRIORITY fields, ignored.
            guard block.readableBytes >= 5 else { return fail(.frameSizeError) }
            block.moveReaderIndex(forwardBy: 5)
        }
        let endStream = header.flags & 0x1 != 0
        if header.flags & 0x4 != 0 {
            headerBlockComplete(id, block, endStream: endStream)
        } else {
            headerBlock = (id, block, endStream)
        }
    }

    private func receiveContinuation(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        guard var pending = headerBlock else { return fail(.protocolError) }
        var payload = payload
        if payload.readableBytes == 0, header.flags & 0x4 == 0 {
            guard spendGlitch() else { return }
        }
        // A block the decoded list could not fit in is refused before it is gathered.
        guard pending.block.readableBytes + payload.readableBytes <= shared.configuration.maxHeadBytes + Self.maxFrameSize else {
            return fail(.enhanceYourCalm)
        }
        headerBlock = nil
        pending.block.writeBuffer(&payload)
        if header.flags & 0x4 != 0 {
            headerBlockComplete(pending.id, pending.block, endStream: pending.endStream)
        } else {
            headerBlock = pending
        }
    }

    private func headerBlockComplete(_ id: HTTP2StreamID, _ block: ByteBuffer, endStream: Bool) {
        // Every block is decoded, even one whose stream is refused: the decoder's table must
        // stay in step with the client's encoder (RFC 7541 §2.2).
        var block = block
        let headers: HPACKHeaders
        do {
            headers = try decoder.decodeHeaders(from: &block)
        } catch {
            return fail(.compressionError)
        }
        if let index = index(of: id) {
            return receiveTrailers(index, headers, endStream: endStream)
        }
        guard id > highestStreamID else {
            guard spendGlitch() else { return }
            return writeReset(id, .streamClosed)
        }
        highestStreamID = id
        if goAwayStreamID != nil || peerGoingAway {
            // After our GOAWAY, new streams are not processed (§6.8); the client retries them.
            return
        }
        guard streams.count < shared.configuration.maxConcurrentStreams else {
            guard spendGlitch() else { return }
            return writeReset(id, .refusedStream)
        }
        guard let facts = HTTP2RequestFields.validateRequest(headers), !endStream || (facts.contentLength ?? 0) == 0 else {
            guard spendReset() else { return }
            return writeReset(id, .protocolError)
        }
        connectionGuard.streamOpened(id)
        if endStream, let relay = startRelay(id, headers) {
            streams.append(HTTP2StreamRecord(id: id, isRelayed: true, remoteEnded: true, sendWindow: peerInitialWindow, contentLength: nil))
            relays.append(relay)
            return relay.begin()
        }
        streams.append(
            HTTP2StreamRecord(id: id, isRelayed: false, remoteEnded: endStream, sendWindow: peerInitialWindow, contentLength: facts.contentLength))
        context?.fireChannelRead(wrapInboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: endStream)))))
        pendingEvents.append(
            NIOHTTP2StreamCreatedEvent(
                streamID: id, localInitialWindowSize: UInt32(Self.initialWindow), remoteInitialWindowSize: UInt32(peerInitialWindow)))
    }

    /// A second header block on an open stream: trailers, which end it (§8.1).
    private func receiveTrailers(_ index: Int, _ headers: HPACKHeaders, endStream: Bool) {
        let id = streams[index].id
        guard !streams[index].remoteEnded else { return resetStream(id, .streamClosed) }
        guard endStream, HTTP2RequestFields.validateTrailers(headers) else { return resetStream(id, .protocolError) }
        if let expected = streams[index].contentLength, streams[index].received != expected {
            return resetStream(id, .protocolError)
        }
        streams[index].remoteEnded = true
        context?.fireChannelRead(wrapInboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: true)))))
        closeIfDone(id)
    }

    /// Routes and sends a request that can be relayed; nil leaves it to a stream channel.
    private func startRelay(_ id: HTTP2StreamID, _ headers: HPACKHeaders) -> HTTP2ProxyStream? {
        guard let address = peer.address,
            let request = HTTP2ProxyStream.Request(headers, maxTargetBytes: shared.configuration.maxURIBytes)
        else { return nil }
        if shared.statusHandler != nil, request.path == "/_tako/status" { return nil }
        guard let backend = shared.snapshots.snapshot.backend(host: request.authority, path: request.path),
            let endpoint = backend.pick(), peer.acquire()
        else { return nil }
        var upstreamRequest = allocator.buffer(capacity: 512)
        request.write(headers, into: &upstreamRequest, clientAddress: address, scheme: scheme, requestIDs: shared.requestIDs)
        return HTTP2ProxyStream(id: id, owner: self, request: upstreamRequest, method: request.method, backend: backend, endpoint: endpoint)
    }

    // MARK: RST_STREAM

    private func receiveReset(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        let id = header.stream
        guard header.length == 4 else { return fail(.frameSizeError) }
        guard id != .rootStream, id <= highestStreamID else { return fail(.protocolError) }
        guard let index = index(of: id) else { return }
        let code = HTTP2ErrorCode(networkCode: Int(payload.getInteger(at: payload.readerIndex, as: UInt32.self)!))
        if streams[index].responseOpen {
            guard spendReset() else { return }
        }
        if !streams[index].isRelayed {
            context?.fireChannelRead(wrapInboundOut(HTTP2Frame(streamID: id, payload: .rstStream(code))))
        }
        closeStream(index, reason: code)
    }

    // MARK: SETTINGS, PING, WINDOW_UPDATE

    private func receiveSettings(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        guard header.stream == .rootStream else { return fail(.protocolError) }
        if header.flags & 0x1 != 0 {
            guard header.length == 0 else { return fail(.frameSizeError) }
            return
        }
        guard header.length % 6 == 0 else { return fail(.frameSizeError) }
        var payload = payload
        var windowChanged = false
        while let parameter = payload.readInteger(as: UInt16.self), let value = payload.readInteger(as: UInt32.self) {
            switch parameter {
            case 0x2:
                guard value <= 1 else { return fail(.protocolError) }
            case 0x4:
                guard value <= 0x7FFF_FFFF else { return fail(.flowControlError) }
                let delta = Int(value) - peerInitialWindow
                peerInitialWindow = Int(value)
                for index in streams.indices {
                    streams[index].sendWindow += delta
                    guard streams[index].sendWindow <= 0x7FFF_FFFF else { return fail(.flowControlError) }
                }
                windowChanged = true
            case 0x5:
                guard (16_384...16_777_215).contains(value) else { return fail(.protocolError) }
                peerMaxFrameSize = Int(value)
            default:
                // HEADER_TABLE_SIZE: no dynamic table is used to encode; the rest are advisory or unknown.
                break
            }
        }
        guard spendControlAnswer() else { return }
        writeFrameHeader(length: 0, type: .settings, flags: 0x1, stream: .rootStream)
        if windowChanged { sendPending() }
    }

    private func receivePing(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        guard header.length == 8 else { return fail(.frameSizeError) }
        guard header.stream == .rootStream else { return fail(.protocolError) }
        guard header.flags & 0x1 == 0 else { return }
        guard spendControlAnswer() else { return }
        var payload = payload
        writeFrameHeader(length: 8, type: .ping, flags: 0x1, stream: .rootStream)
        out.writeBuffer(&payload)
    }

    private func receiveWindowUpdate(_ header: HTTP2FrameHeader, _ payload: ByteBuffer) {
        guard header.length == 4 else { return fail(.frameSizeError) }
        let increment = Int(payload.getInteger(at: payload.readerIndex, as: UInt32.self)! & 0x7FFF_FFFF)
        let id = header.stream
        if id == .rootStream {
            guard increment > 0 else { return fail(.protocolError) }
            sendWindow += increment
            guard sendWindow <= 0x7FFF_FFFF else { return fail(.flowControlError) }
            return sendPending()
        }
        guard id <= highestStreamID else { return fail(.protocolError) }
        // A closed stream's update is a harmless race (§6.9).
        guard let index = index(of: id) else { return }
        guard increment > 0 else { return resetStream(id, .protocolError) }
        streams[index].sendWindow += increment
        guard streams[index].sendWindow <= 0x7FFF_FFFF else { return resetStream(id, .flowControlError) }
        sendPending(index)
    }

    // MARK: Closing streams

    /// A stream error (§5.4.2): RST_STREAM, and the stream is closed here.
    func resetStream(_ id: HTTP2StreamID, _ code: HTTP2ErrorCode) {
        guard spendReset() else { return }
        writeReset(id, code)
        if let index = index(of: id) { closeStream(index, reason: code) }
    }

    /// Both ends are done: the stream is closed.
    func closeIfDone(_ id: HTTP2StreamID) {
        guard let index = index(of: id), streams[index].remoteEnded, streams[index].localEnded else { return }
        closeStream(index, reason: nil)
    }

    /// Forgets a stream and tells whoever serves it: a relay that did not finish its response
    /// is abandoned; a stream channel gets NIOHTTP2's StreamClosedEvent.
    func closeStream(_ index: Int, reason: HTTP2ErrorCode?) {
        let record = streams.remove(at: index)
        record.failQueued()
        closedStreams += 1
        if record.isRelayed {
            if let relay = relays.first(where: { $0.id == record.id }) { relay.streamClosed() }
        } else {
            pendingEvents.append(StreamClosedEvent(streamID: record.id, reason: reason))
        }
    }
}
