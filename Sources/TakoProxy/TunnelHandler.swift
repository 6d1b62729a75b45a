import NIOCore

/// Relays raw bytes between a client and an upstream connection after an HTTP/1.1 upgrade
/// (`101 Switching Protocols`, e.g. WebSocket), both ways, until either side closes.
///
/// Both channels live on the same event loop. Back-pressure: while one side cannot take
/// more, the other side's reading stops (`autoRead` off).
final class TunnelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let partner: any Channel
    /// Until both pipelines have shed their HTTP handlers, bytes wait here: a decoder hands on
    /// its leftovers when it is removed, and the partner may still have HTTP handlers then.
    private var isOpen = false
    private var pending: [ByteBuffer] = []

    init(partner: any Channel) {
        self.partner = partner
    }

    /// Both sides speak raw bytes now: relay what waited and everything after.
    func open() {
        isOpen = true
        for buffer in pending { partner.write(buffer, promise: nil) }
        pending.removeAll()
        partner.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if isOpen {
            partner.write(buffer, promise: nil)
        } else {
            pending.append(buffer)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if isOpen { partner.flush() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side is full: stop taking bytes from the partner until it drains.
        try? partner.syncOptions?.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
