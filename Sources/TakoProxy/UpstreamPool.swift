import NIOCore
import NIOHTTP1
import NIOPosix

/// What the pool keeps: a connection to one upstream address.
protocol PooledUpstream: AnyObject {
    var address: SocketAddress { get }
    var channel: (any Channel)? { get }
    /// False once the connection has closed or must not carry another request (its own
    /// flag: asking the channel whether it is active costs more than the rest of a take).
    var isReusable: Bool { get }
}

/// Idle keep-alive connections to upstream instances, one pool per event loop.
///
/// Only its own event loop touches a pool, so it needs no lock and taking a connection is a
/// dictionary lookup, not a future. It keeps two kinds apart: connections with NIO's HTTP
/// codec (`UpstreamConnection`, for `ProxyHandler`) and raw ones (`RawUpstreamConnection`, for
/// the fast path).
///
/// `@unchecked Sendable`: the server hands each pool to the connections of its own loop only,
/// and every method asserts it runs on that loop.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let maxIdlePerAddress: Int
    private let connectTimeout: TimeAmount
    private var idle: [SocketAddress: [UpstreamConnection]] = [:]
    private var rawIdle: [SocketAddress: [RawUpstreamConnection]] = [:]
    /// Scratch space for the fast path's request parser. A handler parses a head and writes
    /// its rewrite in one go on this loop, so one array serves every connection of the loop
    /// and an idle connection keeps none.
    var headerLines: [RawHeaderLine] = []

    init(eventLoop: any EventLoop, configuration: ProxyConfiguration) {
        self.eventLoop = eventLoop
        self.maxIdlePerAddress = configuration.maxIdleUpstreamConnections
        self.connectTimeout = configuration.upstreamConnectTimeout
    }

    /// An idle connection to `address`, when there is one.
    func take(_ address: SocketAddress) -> UpstreamConnection? {
        Self.take(address, from: &idle, on: eventLoop)
    }

    func takeRaw(_ address: SocketAddress) -> RawUpstreamConnection? {
        Self.take(address, from: &rawIdle, on: eventLoop)
    }

    func put(_ connection: UpstreamConnection) {
        Self.put(connection, into: &idle, limit: maxIdlePerAddress, on: eventLoop)
    }

    func put(_ connection: RawUpstreamConnection) {
        Self.put(connection, into: &rawIdle, limit: maxIdlePerAddress, on: eventLoop)
    }

    func remove(_ connection: UpstreamConnection) {
        Self.remove(connection, from: &idle, on: eventLoop)
    }

    func remove(_ connection: RawUpstreamConnection) {
        Self.remove(connection, from: &rawIdle, on: eventLoop)
    }

    /// Opens a new connection to `address` on this pool's event loop.
    func connect(_ address: SocketAddress) -> EventLoopFuture<UpstreamConnection> {
        open(address) { channel, pool in
            // As on the client side: what is sent was validated when it was parsed.
            try channel.pipeline.syncOperations.addHTTPClientHandlers(
                leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
            let connection = UpstreamConnection(address: address, pool: pool)
            try channel.pipeline.syncOperations.addHandler(connection)
            return connection
        }
    }

    /// Opens a new fast-path connection (no HTTP codec) to `address`.
    func connectRaw(_ address: SocketAddress) -> EventLoopFuture<RawUpstreamConnection> {
        open(address) { channel, pool in
            let connection = RawUpstreamConnection(address: address, pool: pool)
            try channel.pipeline.syncOperations.addHandler(connection)
            return connection
        }
    }

    private func open<Connection: ChannelHandler & SendableMetatype>(
        _ address: SocketAddress, handlers: @escaping (any Channel, UpstreamPool) throws -> Connection
    ) -> EventLoopFuture<Connection> {
        eventLoop.assertInEventLoop()
        let pool = self
        // The bootstrap runs its initializer on this same loop: the closure never leaves it.
        let handlers = NIOLoopBound(handlers, eventLoop: eventLoop)
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            // One read per readiness event, for the reason the client side gives (ProxyServer):
            // with NIO's default of 4, a response longer than the first 2 KiB read left every
            // pooled connection holding two grown receive buffers (64 KiB per connection after
            // 16 KiB responses, against 32 KiB now).
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { _ = try handlers.value(channel, pool) }
            }
            .connect(to: address)
            .flatMapThrowing { channel in
                try channel.pipeline.syncOperations.handler(type: Connection.self)
            }
    }

    /// Closes every idle connection (used when the server shuts down).
    func closeAll() {
        eventLoop.assertInEventLoop()
        for connection in idle.values.joined() {
            connection.channel?.close(promise: nil)
        }
        for connection in rawIdle.values.joined() {
            connection.channel?.close(promise: nil)
        }
        idle.removeAll()
        rawIdle.removeAll()
    }

    // MARK: One kind of connection

    private static func take<Connection: PooledUpstream>(
        _ address: SocketAddress, from store: inout [SocketAddress: [Connection]], on eventLoop: any EventLoop
    ) -> Connection? {
        eventLoop.assertInEventLoop()
        while let connection = store[address]?.popLast() {
            if connection.isReusable { return connection }
        }
        return nil
    }

    private static func put<Connection: PooledUpstream>(
        _ connection: Connection, into store: inout [SocketAddress: [Connection]], limit: Int, on eventLoop: any EventLoop
    ) {
        eventLoop.assertInEventLoop()
        // One lookup, and the list is changed in place.
        let kept = Self.append(connection, to: &store[connection.address, default: []], limit: limit)
        if !kept { connection.channel?.close(promise: nil) }
    }

    private static func append<Connection>(_ connection: Connection, to list: inout [Connection], limit: Int) -> Bool {
        guard list.count < limit else { return false }
        list.append(connection)
        return true
    }

    private static func remove<Connection: PooledUpstream>(
        _ connection: Connection, from store: inout [SocketAddress: [Connection]], on eventLoop: any EventLoop
    ) {
        eventLoop.assertInEventLoop()
        guard let index = store[connection.address]?.firstIndex(where: { $0 === connection }) else { return }
        store[connection.address]?.remove(at: index)
    }
}
