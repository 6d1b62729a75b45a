import NIOCore

/// Limits and timeouts of the traffic path. Every value has the default the product
/// promises; the owner (tako-server, tako-dev-server, or `tako-server proxy`) may change them.
public struct ProxyConfiguration: Sendable {
    /// Event loops serving connections; one per core by default.
    public var eventLoops: Int
    /// A request line plus headers larger than this is answered 431.
    public var maxHeadBytes: Int = 32 * 1024
    /// A request target longer than this is answered 414.
    public var maxURIBytes: Int = 8 * 1024
    /// A request body larger than this is answered 413 (or the connection is cut once streaming).
    public var maxBodyBytes: Int64 = 128 * 1024 * 1024
    /// A client that has not sent a whole request head within this time is disconnected.
    public var headTimeout: TimeAmount = .seconds(10)
    /// A client that stops sending a request body for this long is answered 408 (or, with
    /// the response under way, disconnected). Time the proxy itself holds the body back
    /// (an app reading slowly) does not count.
    public var bodyTimeout: TimeAmount = .seconds(60)
    /// A client that reads nothing of a response for this long is disconnected (a slow
    /// reader would otherwise hold its connection, the upstream connection and the app).
    public var sendTimeout: TimeAmount = .seconds(60)
    /// An idle keep-alive client connection is closed after this time.
    public var idleTimeout: TimeAmount = .seconds(75)
    /// Connecting to an upstream instance gives up after this time (then 502).
    public var upstreamConnectTimeout: TimeAmount = .seconds(5)
    /// An upstream that has not answered with a response head within this time gives 504.
    public var upstreamResponseTimeout: TimeAmount = .seconds(60)
    /// How long a request waits for an on-demand app's instance to become ready (then 504).
    public var coldStartTimeout: TimeAmount = .seconds(30)
    /// Peers whose `X-Forwarded-For` is kept (and appended to); everyone else's is replaced.
    public var trustedProxies: Set<String> = []
    /// What `X-Forwarded-Proto` says for connections on this listener.
    public var scheme: String = "http"
    /// Requests an HTTP/2 client may have open at once on one connection (the
    /// SETTINGS_MAX_CONCURRENT_STREAMS it is told); more are refused by the protocol.
    public var maxConcurrentStreams: Int = 128
    /// Idle upstream connections kept per endpoint and event loop.
    public var maxIdleUpstreamConnections: Int = 256
    /// Requests one client address may have in flight to apps at once; more are answered 429
    /// (0: no cap). Trusted proxies are exempt: they speak for many clients.
    public var maxRequestsPerClient: Int = 2048

    public init(eventLoops: Int = System.coreCount) {
        self.eventLoops = max(1, eventLoops)
    }
}
