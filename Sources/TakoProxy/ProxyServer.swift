import TakoCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// A reverse proxy's listeners (HTTP/1.1; HTTPS with HTTP/2 by ALPN): routes by the published
/// `RoutingSnapshot`, keeps upstream connections per event loop, and drains gracefully.
///
/// The owner creates it with a snapshot store and keeps publishing snapshots; requests never
/// wait for the owner.
public final class ProxyServer: Sendable {
    /// Answers `GET /_tako/status` (status code and JSON body), supplied by the owner.
    public typealias StatusHandler = @Sendable () -> (HTTPResponseStatus, ByteBuffer)
    /// Answers a request no route matches, given its host: a status and an HTML page (the dev
    /// daemon lists its apps' URLs); nil keeps the plain 404.
    public typealias UnmatchedHandler = @Sendable (_ host: String) -> (HTTPResponseStatus, String)?

    private let shared: ProxyShared
    private let group: MultiThreadedEventLoopGroup
    private let pools: [ObjectIdentifier: UpstreamPool]
    private let state = Locked<(listeners: [any Channel], connections: [ObjectIdentifier: any Channel])>(([], [:]))
    /// A copy of each listening socket, in the order started, kept to hand to a successor.
    private let listenerCopies = Locked<[Int32]>([])

    public init(
        configuration: ProxyConfiguration = ProxyConfiguration(), snapshots: RoutingSnapshotStore,
        statusHandler: StatusHandler? = nil, challenges: ChallengeResponder? = nil, unmatched: UnmatchedHandler? = nil
    ) {
        shared = ProxyShared(
            configuration: configuration, snapshots: snapshots, statusHandler: statusHandler, challenges: challenges,
            unmatchedHandler: unmatched)
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop, configuration: configuration)
        }
        self.pools = pools
    }

    /// Starts listening and returns the bound address (port 0 picks a free port). With
    /// `tls`, the listener speaks HTTPS with the store's certificates, chosen by SNI. A server
    /// may have several listeners (HTTP and HTTPS) sharing its routes and upstream pools.
    ///
    /// `redirect` (for the HTTP listener of a server that also has HTTPS) sends hosts with a
    /// certificate to HTTPS. `inherited` is a listening socket handed over by the server this
    /// one replaces; otherwise a new one is opened (with `SO_REUSEPORT`).
    public func start(
        host: String, port: Int, tls: CertificateStore? = nil, redirect: HTTPSRedirect? = nil, inherited: Int32? = nil
    ) async throws -> SocketAddress {
        let descriptor = try inherited ?? ListenerSocket.open(host: host, port: port)
        let copy = ListenerSocket.keepCopy(descriptor)
        let shared = self.shared
        let scheme = tls == nil ? shared.configuration.scheme : "https"
        let pools = self.pools
        let server = self
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
            // NIO listens again on a socket it is given, with this backlog (128 by default,
            // which made a burst of new connections wait for SYN retransmits).
            .serverChannelOption(.backlog, value: ListenerSocket.backlog)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // One read per readiness event. NIO pools receive buffers per channel, up to this
            // many, for the channel's lifetime: a read that finds the last buffer still held (a
            // body slice not yet written upstream) adds one. With 16, a keep-alive connection
            // that had uploaded a body kept 16 × 64 KiB once idle. A read that does not fill the
            // buffer ends the event anyway, so requests that fit in one read cost nothing more.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            // A channel keeps its receive buffer between reads. Starting at 1 KiB (nginx's
            // client_header_buffer_size) rather than NIO's 2 KiB halves what each idle
            // keep-alive connection holds; the allocator grows it for clients that send more.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let pool = pools[ObjectIdentifier(channel.eventLoop)] else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    let listener = ClientPipeline(shared: shared, pool: pool, scheme: scheme, redirect: redirect)
                    try listener.configure(channel, tls: tls)
                    server.track(channel)
                }
            }
            .withBoundSocket(descriptor)
            .get()
        } catch {
            close(copy)
            if inherited == nil { close(descriptor) }
            throw error
        }
        state.withLock { $0.listeners.append(channel) }
        listenerCopies.withLock { $0.append(copy) }
        guard let address = channel.localAddress else { throw ChannelError.unknownLocalAddress }
        return address
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }

    /// The listening sockets, in the order they were started, for a successor process (they
    /// are close-on-exec: the spawner maps them onto the child's descriptors).
    public var listenerDescriptors: [Int32] { listenerCopies.withLock { $0 } }

    /// Stops accepting (a successor holding the same sockets takes the queued connections from
    /// there), returning once every connection accepted before has its pipeline.
    ///
    /// The listeners stop reading rather than close: NIO sets up an accepted connection on its
    /// own event loop and then, back on the listener's, closes it if the listener has closed
    /// meanwhile — with the client's request unread, so the client got a reset. They close
    /// with the drain (`startDraining`), when nothing is being accepted any more.
    public func stopAccepting() async {
        let listeners = state.withLock { $0.listeners }
        for listener in listeners { try? await listener.setOption(.autoRead, value: false).get() }
        // Setups already under way run on the connections' loops, then hop back to the
        // listener's: a round through every loop, then the listeners' own, sees them done.
        for loop in group.makeIterator() { try? await loop.submit {}.get() }
        for listener in listeners { try? await listener.eventLoop.submit {}.get() }
    }

    /// After `stopAccepting`, for a handoff: lets every connection finish politely — each next
    /// response says `Connection: close` and ends its connection, HTTP/2 gets GOAWAY — and
    /// after `idleGrace` closes connections that stayed idle (a client that keeps using its
    /// connection is never cut mid-flight; one that does not, is not using it).
    public func finishPolitely(idleGrace: TimeAmount = .seconds(2)) {
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ProxyHandoffEvent())
        }
        group.any().scheduleTask(in: idleGrace) { [weak self] in
            self?.startDraining()
        }
    }

    /// Starts a drain without waiting: the listener closes and every connection is told to
    /// close after its current response (idle ones close at once). `shutdown` does this first.
    public func startDraining() {
        let (listeners, connections) = state.withLock { ($0.listeners, Array($0.connections.values)) }
        for listener in listeners { listener.close(promise: nil) }
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Stops accepting, lets in-flight requests finish (each connection closes after its
    /// current response) for up to `deadline`, then closes whatever is left.
    public func shutdown(deadline: TimeAmount = .seconds(30)) async {
        startDraining()
        let (listeners, connections) = state.withLock { ($0.listeners, Array($0.connections.values)) }
        for listener in listeners { try? await listener.closeFuture.get() }
        let closed = connections.map(\.closeFuture)
        let all = EventLoopFuture.andAllComplete(closed, on: group.any())
        let timeout = group.any().scheduleTask(in: deadline) {
            for connection in connections { connection.close(promise: nil) }
        }
        try? await all.get()
        timeout.cancel()
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.closeAll() }.get()
        }
        for copy in listenerCopies.withLock({ $0 }) { close(copy) }
        listenerCopies.withLock { $0 = [] }
        try? await group.shutdownGracefully()
    }
}

/// The server is being replaced: finish politely (see `ProxyServer.handOff`).
public struct ProxyHandoffEvent: Sendable {
    public init() {}
}
