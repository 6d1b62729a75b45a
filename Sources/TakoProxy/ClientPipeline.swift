import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOTLS

/// Puts together the handlers of one accepted client connection.
///
/// - HTTP: `ConnectionGuard` and `FastProxyHandler`, which moves a connection to NIO's HTTP/1.1
///   codec and `ProxyHandler` when a request needs them (`FastProxyHandler.useFullPipeline`).
/// - HTTPS: `TLSHandshakeRouter` (certificate by SNI) and `ConnectionGuard` first; once the
///   handshake has agreed on a protocol by ALPN, either the HTTP/1.1 handlers follow, or the
///   connection becomes HTTP/2: `HTTP2ConnectionGuard`, NIOHTTP2's handler, and per stream
///   an `HTTP2StreamProxyHandler` (which hands streams it does not take to NIO's
///   HTTP/1-style codec and a `ProxyHandler`).
struct ClientPipeline {
    let shared: ProxyShared
    let pool: UpstreamPool
    /// What the listener speaks (`X-Forwarded-Proto`).
    let scheme: String
    let redirect: HTTPSRedirect?

    func configure(_ channel: any Channel, tls: CertificateStore?) throws {
        let sync = channel.pipeline.syncOperations
        guard let tls else {
            let connectionGuard = ConnectionGuard(configuration: shared.configuration)
            try sync.addHandler(connectionGuard)
            return try addHTTP1(to: channel, connectionGuard: connectionGuard)
        }
        try sync.addHandler(TLSHandshakeRouter(store: tls))
        // The guard bounds the handshake too (nothing decrypted arrives before it is done).
        try sync.addHandler(ConnectionGuard(configuration: shared.configuration))
        // The negotiation completes inside the handshake, before any request byte is decrypted.
        try sync.addHandler(
            ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let connectionGuard = try sync.handler(type: ConnectionGuard.self)
                    if case .negotiated("h2") = result {
                        try sync.removeHandler(context: sync.context(handler: connectionGuard), promise: nil)
                        try addHTTP2(to: channel)
                    } else {
                        try addHTTP1(to: channel, connectionGuard: connectionGuard)
                    }
                }
            })
    }

    /// HTTP/1.1 starts on the fast path (`FastProxyHandler`, no codec), which hands the
    /// connection to the full pipeline below when a request needs it.
    private func addHTTP1(to channel: any Channel, connectionGuard: ConnectionGuard) throws {
        try channel.pipeline.syncOperations.addHandler(
            FastProxyHandler(shared: shared, pool: pool, connectionGuard: connectionGuard, scheme: scheme, redirect: redirect))
    }

    private func addHTTP2(to channel: any Channel) throws {
        let sync = channel.pipeline.syncOperations
        let configuration = shared.configuration
        let connectionGuard = HTTP2ConnectionGuard(idleTimeout: configuration.idleTimeout)
        try sync.addHandler(connectionGuard)
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: configuration.maxHeadBytes),
        ]
        let guardOnLoop = NIOLoopBound(connectionGuard, eventLoop: channel.eventLoop)
        let (shared, pool, scheme) = (shared, pool, scheme)
        _ = try sync.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: NIOHTTP2Handler.StreamConfiguration()
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                guardOnLoop.value.streamOpened(stream)
                // Plain requests are relayed from the frames; the handler hands other streams to
                // NIO's HTTP/2-to-HTTP/1 codec and a ProxyHandler.
                try stream.pipeline.syncOperations.addHandler(HTTP2StreamProxyHandler(shared: shared, pool: pool, scheme: scheme))
            }
        }
    }
}
