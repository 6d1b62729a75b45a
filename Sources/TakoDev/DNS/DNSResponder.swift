import TakoCore
import NIOCore
import NIOPosix

/// The dev daemon's DNS server (UDP, `127.0.0.1:53535` by default): A and AAAA answers with
/// loopback for the hosts currently registered, NXDOMAIN for everything else (`DNSMessage`).
/// macOS sends `*.tako.local` lookups here through `/etc/resolver/tako.local`.
public final class DNSResponder: Sendable {
    private let hosts = Locked<Set<String>>([])
    private let group: MultiThreadedEventLoopGroup
    private let channel = Locked<(any Channel)?>(nil)

    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Replaces the names that resolve (lower-cased, no trailing dot).
    public func setHosts(_ names: Set<String>) {
        let lowered = Set(names.map { $0.lowercased() })
        hosts.withLock { $0 = lowered }
    }

    public func isRegistered(_ name: String) -> Bool {
        hosts.withLock { $0.contains(name) }
    }

    /// Binds and returns the address (port 0 picks a free one).
    public func start(host: String = "127.0.0.1", port: Int = 53535) async throws -> SocketAddress {
        let responder = self
        let bound = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSHandler(responder: responder))
                }
            }
            .bind(host: host, port: port)
            .get()
        channel.withLock { $0 = bound }
        guard let address = bound.localAddress else { throw ChannelError.unknownLocalAddress }
        return address
    }

    public func stop() async {
        let bound = channel.withLock { $0 }
        try? await bound?.close()
        try? await group.shutdownGracefully()
    }
}

private final class DNSHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let responder: DNSResponder

    init(responder: DNSResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let packet = Array(envelope.data.readableBytesView.prefix(4096))
        guard let reply = DNSMessage.answer(packet, isRegistered: responder.isRegistered) else { return }
        let buffer = context.channel.allocator.buffer(bytes: reply)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed send to one client (ICMP unreachable, say) must not end the server.
    }
}
