import NIOCore

/// A handler that sends a request over a raw upstream connection (`RawUpstreamConnection`):
/// a pooled one when the instance has one idle, else a new one; when connecting fails before
/// anything was sent, an idempotent request tries one other healthy instance
/// (`UpstreamChoice`). `FastProxyHandler` (HTTP/1.1) and `HTTP2ProxyStream` share it.
protocol RawUpstreamSender: AnyObject {
    var pool: UpstreamPool { get }
    var upstream: UpstreamChoice { get set }
    var isIdempotentRequest: Bool { get }
    /// Names the request being sent, for a connection that completes after the sender has
    /// moved on (its client left, or sent the next request).
    var requestToken: Int { get }
    /// The request now waits for a new connection to `endpoint`.
    func connecting(to endpoint: UpstreamEndpoint)
    /// Whether the request named `token` still waits for a connection to `endpoint`.
    func isConnecting(to endpoint: UpstreamEndpoint, token: Int) -> Bool
    /// Writes the request on `connection`, which is the sender's until it releases it.
    func relay(over connection: RawUpstreamConnection)
    /// No connection could be had, and no other instance is left to try: answer 502.
    func noConnection()
}

extension RawUpstreamSender {
    func send(to endpoint: UpstreamEndpoint) {
        upstream.send(to: endpoint)
        if let connection = pool.takeRaw(endpoint.address) {
            return relay(over: connection)
        }
        connecting(to: endpoint)
        // As an existential: the callback then needs no metatype of a generic `Self`.
        let sender = NIOLoopBound(self as any RawUpstreamSender, eventLoop: pool.eventLoop)
        let token = requestToken
        pool.connectRaw(endpoint.address).whenComplete { result in
            sender.value.connected(result, endpoint: endpoint, token: token)
        }
    }

    private func connected(_ result: Result<RawUpstreamConnection, any Error>, endpoint: UpstreamEndpoint, token: Int) {
        guard isConnecting(to: endpoint, token: token) else {
            // The request is gone meanwhile: the connection serves someone else.
            if case .success(let connection) = result { connection.release(reusable: true) }
            return
        }
        switch result {
        case .success(let connection):
            relay(over: connection)
        case .failure:
            // Nothing reached the upstream: an idempotent request may try another instance once.
            if let other = upstream.connectFailed(idempotent: isIdempotentRequest) {
                return send(to: other)
            }
            noConnection()
        }
    }
}
