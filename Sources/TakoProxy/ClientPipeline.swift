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
///   connection becomes HTTP/2: `HTTP2ConnectionGuard`, `HTTP2ServerConnection` (the framing,
///   and plain requests relayed on the connection), and NIOHTTP2's stream multiplexer for the
///   other streams (NIO's HTTP/1-style codec and a `ProxyHandler` on a channel per stream).
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

    /// Also the fuzz seam for HTTP/2 (`ProxyFuzzing.configureHTTP2`), without TLS in front.
    func addHTTP2(to channel: any Channel) throws {
        let sync = channel.pipeline.syncOperations
        let configuration = shared.configuration
        let connectionGuard = HTTP2ConnectionGuard(idleTimeout: configuration.idleTimeout)
        try sync.addHandler(connectionGuard)
        let streams = NIOHTTP2Handler.StreamConfiguration()
        let (shared, pool, scheme) = (shared, pool, scheme)
        // Tako frames the connection and relays plain requests itself; NIOHTTP2's multiplexer
        // gives every other stream a channel with NIO's HTTP/2-to-HTTP/1 codec and a ProxyHandler.
        try sync.addHandler(HTTP2ServerConnection(shared: shared, pool: pool, scheme: scheme, connectionGuard: connectionGuard))
        try sync.addHandler(
            HTTP2StreamMultiplexer(
                mode: .server, channel: channel, targetWindowSize: streams.targetWindowSize,
                outboundBufferSizeHighWatermark: streams.outboundBufferSizeHighWatermark,
                outboundBufferSizeLowWatermark: streams.outboundBufferSizeLowWatermark
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    let handler = ProxyHandler(shared: shared, pool: pool, connectionGuard: nil, scheme: scheme, redirect: nil, multiplexed: true)
                    try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), handler])
                }
            })
    }
}
