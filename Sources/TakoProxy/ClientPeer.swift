import NIOCore

/// The client at the other end of a connection, as a proxy handler needs it per request: its
/// address (`X-Forwarded-For`), whether it is a trusted proxy, and its slot count in the
/// per-client cap (`ClientRequestLimiter`), looked up once per connection.
struct ClientPeer {
    private(set) var address: String?
    private(set) var isTrusted = false
    private var client: ClientRequestLimiter.Client?
    private var holdsSlot = false
    private var limiter: ClientRequestLimiter?

    init() {}

    /// Call from `handlerAdded`; `leave` from `handlerRemoved`.
    init(channel: any Channel, shared: ProxyShared) {
        address = channel.remoteAddress?.ipAddress
        isTrusted = address.map(shared.configuration.trustedProxies.contains) ?? false
        // Trusted proxies speak for many clients: they are not capped.
        if let address, !isTrusted {
            limiter = shared.clientLimiter
            client = shared.clientLimiter.register(address)
        }
    }

    /// Takes a slot for the request starting now; false when the client has too many.
    mutating func takeSlot() -> Bool {
        guard acquire() else { return false }
        holdsSlot = true
        return true
    }

    /// The request's response is complete (or it became a tunnel, or the connection ended).
    mutating func releaseSlot() {
        guard holdsSlot else { return }
        holdsSlot = false
        release()
    }

    /// A slot for one more request, on a connection that carries several at once (HTTP/2),
    /// whose streams each remember theirs: every true is paired with one `release()`.
    func acquire() -> Bool {
        guard let client, let limiter else { return true }
        return limiter.acquire(client)
    }

    func release() {
        if let client, let limiter { limiter.release(client) }
    }

    mutating func leave() {
        releaseSlot()
        if let client, let limiter { limiter.unregister(client) }
        client = nil
    }
}
