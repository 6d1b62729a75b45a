import NIOCore
import NIOSSL

/// First on an HTTPS connection: reads the ClientHello's server name, then either hands the
/// connection to a TLS handler with that name's certificate (and steps aside) or refuses it
/// with the `unrecognized_name` alert. Bytes that are not a TLS ClientHello close the
/// connection.
final class TLSHandshakeRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let store: CertificateStore
    private var pending: ByteBuffer?
    private var done = false

    init(store: CertificateStore) {
        self.store = store
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var buffer = unwrapInboundIn(data)
        if var pending {
            pending.writeBuffer(&buffer)
            self.pending = pending
        } else {
            pending = buffer
        }
        guard let bytes = pending?.readableBytesView else { return }
        switch ClientHello.parse(bytes) {
        case .incomplete:
            return
        case .invalid:
            done = true
            context.close(promise: nil)
        case .complete(let serverName):
            done = true
            guard let tls = store.context(forServerName: serverName) else {
                let alert = context.channel.allocator.buffer(bytes: ClientHello.unrecognizedNameAlert)
                let channel = context.channel
                context.writeAndFlush(NIOAny(alert)).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            do {
                try context.pipeline.syncOperations.addHandlers(
                    [NIOSSLServerHandler(context: tls), TLSWriteCoalescer()], position: .after(self))
            } catch {
                context.close(promise: nil)
                return
            }
            if let pending { context.fireChannelRead(wrapInboundOut(pending)) }
            pending = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
