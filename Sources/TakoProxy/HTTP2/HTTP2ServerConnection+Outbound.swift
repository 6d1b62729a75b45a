import NIOCore
import NIOHPACK
import NIOHTTP2

/// Frames to the client. Small frames gather in `out`, written as one buffer at a flush;
/// larger DATA payloads follow it uncopied. DATA waits for the client's windows (connection
/// and stream) in the stream's record, and a frame's promise completes when its bytes are
/// handed to the channel, so a writer that counts its promises counts what really left.
extension HTTP2ServerConnection {
    /// Payloads up to this size are copied into `out`; larger ones go as their own buffer.
    private static let copyLimit = 1024

    func send(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>?) {
        let id = frame.streamID
        switch frame.payload {
        case .headers(let headers):
            guard let index = writableStream(id, promise: promise) else { return }
            var block = allocator.buffer(capacity: 256)
            HPACKLiteralEncoder.encode(headers.headers, into: &block)
            queue(.headers(block, endStream: headers.endStream, promise: promise), at: index, endStream: headers.endStream)
        case .data(let data):
            guard let index = writableStream(id, promise: promise) else { return }
            guard case .byteBuffer(let buffer) = data.data else {
                promise?.fail(ChannelError.operationUnsupported)
                return
            }
            queue(.data(buffer, endStream: data.endStream, promise: promise), at: index, endStream: data.endStream)
        case .windowUpdate(let increment):
            // A stream channel opening its window as it reads the request body.
            guard id != .rootStream, let index = index(of: id), !streams[index].remoteEnded else {
                promise?.succeed()
                return
            }
            writeWindowUpdate(id, increment: increment)
            streams[index].receiveWindow += increment
            addPromise(promise)
            pendingEvents.append(NIOHTTP2WindowUpdatedEvent(streamID: id, inboundWindowSize: streams[index].receiveWindow, outboundWindowSize: nil))
        case .rstStream(let code):
            guard let index = index(of: id) else {
                promise?.succeed()
                return
            }
            writeReset(id, code)
            addPromise(promise)
            closeStream(index, reason: code)
        case .goAway(let lastStreamID, let code, _):
            // The guard's, on idle or drain: streams above `lastStreamID` are not served.
            goAwayStreamID = lastStreamID
            writeFrameHeader(length: 8, type: .goAway, flags: 0, stream: .rootStream)
            out.writeInteger(UInt32(Int32(lastStreamID)))
            out.writeInteger(UInt32(code.networkCode))
            addPromise(promise)
        default:
            // The stream channels write nothing else; a server never pushes.
            promise?.fail(ChannelError.operationUnsupported)
        }
    }

    /// A header block already encoded (a relayed stream's response head).
    func sendHeaders(_ id: HTTP2StreamID, block: ByteBuffer, endStream: Bool) {
        guard let index = writableStream(id, promise: nil) else { return }
        queue(.headers(block, endStream: endStream, promise: nil), at: index, endStream: endStream)
    }

    /// The stream's record, if it may still be written to; else the promise fails.
    private func writableStream(_ id: HTTP2StreamID, promise: EventLoopPromise<Void>?) -> Int? {
        guard let index = index(of: id), !streams[index].closedForWrites else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return nil
        }
        return index
    }

    private func queue(_ item: HTTP2StreamRecord.Pending, at index: Int, endStream: Bool) {
        if endStream { streams[index].closedForWrites = true }
        streams[index].pending.append(item)
        sendPending(index)
    }

    /// Writes what every stream's windows admit.
    func sendPending() {
        var index = 0
        while index < streams.count {
            let id = streams[index].id
            sendPending(index)
            // The stream may have closed (and left the list).
            if index < streams.count, streams[index].id == id { index += 1 }
        }
    }

    /// Writes the stream's waiting frames, in order, as far as the windows allow.
    func sendPending(_ index: Int) {
        let id = streams[index].id
        while let item = streams[index].pending.first {
            switch item {
            case .headers(var block, let endStream, let promise):
                streams[index].pending.removeFirst()
                writeHeaderBlock(&block, stream: id, endStream: endStream)
                addPromise(promise)
                if endStream { return localEnd(index) }
            case .data(var buffer, let endStream, let promise):
                let size = buffer.readableBytes
                let allowed = min(sendWindow, streams[index].sendWindow)
                if size > 0, size > allowed || size > peerMaxFrameSize {
                    // A part now, the rest when the windows open.
                    let part = min(allowed, peerMaxFrameSize)
                    guard part > 0 else { return }
                    let slice = buffer.readSlice(length: part)!
                    streams[index].pending[streams[index].pending.startIndex] = .data(buffer, endStream: endStream, promise: promise)
                    writeData(slice, stream: id, endStream: false, index: index)
                    continue
                }
                streams[index].pending.removeFirst()
                writeData(buffer, stream: id, endStream: endStream, index: index)
                addPromise(promise)
                if endStream { return localEnd(index) }
            }
        }
    }

    private func localEnd(_ index: Int) {
        streams[index].localEnded = true
        closeIfDone(streams[index].id)
    }

    private func writeData(_ buffer: ByteBuffer, stream: HTTP2StreamID, endStream: Bool, index: Int) {
        let size = buffer.readableBytes
        sendWindow -= size
        streams[index].sendWindow -= size
        writeFrameHeader(length: size, type: .data, flags: endStream ? 0x1 : 0, stream: stream)
        if size <= Self.copyLimit {
            var buffer = buffer
            out.writeBuffer(&buffer)
        } else {
            emit()
            context?.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// HEADERS, and CONTINUATION frames for what does not fit the client's frame size.
    private func writeHeaderBlock(_ block: inout ByteBuffer, stream: HTTP2StreamID, endStream: Bool) {
        var first = true
        repeat {
            let size = min(block.readableBytes, peerMaxFrameSize)
            var part = block.readSlice(length: size)!
            let last = block.readableBytes == 0
            let flags: UInt8 = (last ? 0x4 : 0) | (first && endStream ? 0x1 : 0)
            writeFrameHeader(length: size, type: first ? .headers : .continuation, flags: flags, stream: stream)
            out.writeBuffer(&part)
            first = false
        } while block.readableBytes > 0
    }

    func writeReset(_ id: HTTP2StreamID, _ code: HTTP2ErrorCode) {
        writeFrameHeader(length: 4, type: .rstStream, flags: 0, stream: id)
        out.writeInteger(UInt32(code.networkCode))
    }

    func writeWindowUpdate(_ id: HTTP2StreamID, increment: Int) {
        writeFrameHeader(length: 4, type: .windowUpdate, flags: 0, stream: id)
        out.writeInteger(UInt32(increment))
    }

    func writeFrameHeader(length: Int, type: HTTP2FrameKind, flags: UInt8, stream: HTTP2StreamID) {
        out.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        out.writeInteger(UInt16(truncatingIfNeeded: length))
        out.writeInteger(type.rawValue)
        out.writeInteger(flags)
        out.writeInteger(UInt32(Int32(stream)))
    }

    private func addPromise(_ promise: EventLoopPromise<Void>?) {
        if let promise { outPromises.append(promise) }
    }

    /// Hands `out` to the channel; its promises complete with that write.
    func emit() {
        guard let context, out.readableBytes > 0 || !outPromises.isEmpty else { return }
        let buffer = out
        out = context.channel.allocator.buffer(capacity: 1024)
        guard !outPromises.isEmpty else {
            return context.write(wrapOutboundOut(buffer), promise: nil)
        }
        let waiting = outPromises
        outPromises = []
        if waiting.count == 1 {
            return context.write(wrapOutboundOut(buffer), promise: waiting[0])
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { result in
            for waiter in waiting { waiter.completeWith(result) }
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
