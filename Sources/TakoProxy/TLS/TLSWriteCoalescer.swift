import NIOCore

/// Sits just behind the TLS handler and joins the small writes of one flush into one buffer,
/// so that they become one `SSL_write` and one TLS record instead of one each.
///
/// A response is several writes: over HTTP/1.1 its head and its body, over HTTP/2 a HEADERS
/// frame, a DATA frame header and its payload, for every stream that finished in the same
/// event-loop turn. Each record costs a header, an AEAD tag, a cipher set-up and a pass
/// through BoringSSL; nginx avoids that the same way (`ssl_buffer_size`). Buffers larger than
/// `copyLimit` pass through uncopied, after what was gathered before them.
final class TLSWriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Buffers up to this size are copied; larger ones (body chunks) are written as they are.
    static let copyLimit = 2 * 1024
    /// A TLS record's largest payload: gathering more would not save a record.
    static let recordSize = 16 * 1024

    private var gathered: ByteBuffer?
    /// Completes when the gathered buffer is written; later writes' promises follow it.
    private var promise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        let size = buffer.readableBytes
        guard size <= Self.copyLimit else {
            emit(context: context)
            return context.write(data, promise: promise)
        }
        if let gathered, gathered.readableBytes + size > Self.recordSize {
            emit(context: context)
        }
        if gathered == nil {
            gathered = context.channel.allocator.buffer(capacity: max(size, 1024))
        }
        gathered!.writeImmutableBuffer(buffer)
        if let promise {
            if let first = self.promise {
                first.futureResult.cascade(to: promise)
            } else {
                self.promise = promise
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        emit(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Written but not flushed: NIO's own rule is to fail such writes at a close, and the
        // TLS handler below does; handing them down keeps that in one place.
        emit(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        gathered = nil
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
    }

    private func emit(context: ChannelHandlerContext) {
        guard let gathered else { return }
        self.gathered = nil
        let promise = self.promise
        self.promise = nil
        context.write(wrapOutboundOut(gathered), promise: promise)
    }
}
