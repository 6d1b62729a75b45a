import NIOCore
import NIOHTTP1
import NIOPosix

/// Idle keep-alive connections to upstream instances, one pool per event loop.
///
/// Only its own event loop touches a pool, so it needs no lock and taking a connection is a
/// dictionary lookup, not a future.
///
/// `@unchecked Sendable`: the server hands each pool to the connections of its own loop only,
/// and every method asserts it runs on that loop.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let maxIdlePerAddress: Int
    private let connectTimeout: TimeAmount
    private var idle: [SocketAddress: [UpstreamConnection]] = [:]

    init(eventLoop: any EventLoop, configuration: ProxyConfiguration) {
        self.eventLoop = eventLoop
        self.maxIdlePerAddress = configuration.maxIdleUpstreamConnections
        self.connectTimeout = configuration.upstreamConnectTimeout
    }

    /// An idle connection to `address`, when there is one.
    func take(_ address: SocketAddress) -> UpstreamConnection? {
        eventLoop.assertInEventLoop()
        while let connection = idle[address]?.popLast() {
            if connection.channel?.isActive == true { return connection }
        }
        return nil
    }

    func put(_ connection: UpstreamConnection) {
        eventLoop.assertInEventLoop()
        var list = idle[connection.address, default: []]
        guard list.count < maxIdlePerAddress else {
            connection.channel?.close(promise: nil)
            return
        }
        list.append(connection)
        idle[connection.address] = list
    }

    func remove(_ connection: UpstreamConnection) {
        eventLoop.assertInEventLoop()
        guard var list = idle[connection.address], let index = list.firstIndex(where: { $0 === connection }) else { return }
        list.remove(at: index)
        idle[connection.address] = list
    }

    /// Opens a new connection to `address` on this pool's event loop.
    func connect(_ address: SocketAddress) -> EventLoopFuture<UpstreamConnection> {
        eventLoop.assertInEventLoop()
        let pool = self
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // As on the client side: what is sent was validated when it was parsed.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(address: address, pool: pool))
                }
            }
            .connect(to: address)
            .flatMapThrowing { channel in
                try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
            }
    }

    /// Closes every idle connection (used when the server shuts down).
    func closeAll() {
        eventLoop.assertInEventLoop()
        for connection in idle.values.joined() {
            connection.channel?.close(promise: nil)
        }
        idle.removeAll()
    }
}
