import NIOCore
import NIOHTTP1
import TakoCore

/// The seam the `http1` fuzz target (Sources/TakoFuzz) drives the proxy through: a client
/// connection's handlers exactly as an HTTP listener sets them up, with a routing snapshot
/// that can never reach an upstream (an app without instances answers 503, other hosts 404),
/// so fuzzed bytes exercise the parsing, validation and local answers of the real pipeline.
public enum ProxyFuzzing {
    public static func configure(_ channel: any Channel) throws {
        try pipeline(on: channel, scheme: "http").configure(channel, tls: nil)
    }

    /// The handlers of an HTTP/2 connection (after ALPN chose h2), with the same routes: the
    /// `http2` target's bytes are what the TLS layer would have decrypted.
    public static func configureHTTP2(_ channel: any Channel) throws {
        try pipeline(on: channel, scheme: "https").addHTTP2(to: channel)
    }

    private static func pipeline(on channel: any Channel, scheme: String) throws -> ClientPipeline {
        var routes: [String: [RoutePattern]] = [:]
        routes["app"] = [try RoutePattern("app.test"), try RoutePattern("*.wild.test/api/*")]
        let snapshot = RoutingSnapshot(routes: try RouteTable(routes), apps: ["app": AppBackend(name: "app", endpoints: [])])
        let shared = ProxyShared(
            configuration: ProxyConfiguration(), snapshots: RoutingSnapshotStore(snapshot),
            statusHandler: { (.ok, ByteBuffer(string: "{\"healthy\":true}")) }, challenges: nil)
        let pool = UpstreamPool(eventLoop: channel.eventLoop, configuration: shared.configuration)
        return ClientPipeline(shared: shared, pool: pool, scheme: scheme, redirect: nil)
    }
}

extension ProxyFuzzing {
    /// What the HTTPS listener reads before any TLS library sees a connection: the SNI name of
    /// a ClientHello. nil: more bytes needed; `.some(nil)`: a hello without SNI; "!invalid":
    /// not a ClientHello.
    public static func clientHelloServerName(_ bytes: [UInt8]) -> String?? {
        switch ClientHello.parse(bytes) {
        case .incomplete: return nil
        case .complete(let name): return .some(name)
        case .invalid: return .some("!invalid")
        }
    }
}
