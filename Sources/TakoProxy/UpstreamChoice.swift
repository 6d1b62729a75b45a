/// The instance a request goes to: it counts the request in flight there (the balancer's
/// load), and when connecting to it fails before anything was sent it offers an idempotent
/// request one other healthy instance.
struct UpstreamChoice {
    private(set) var endpoint: UpstreamEndpoint?
    private var backend: AppBackend?
    private var retried = false

    /// A new request, routed to `backend`.
    mutating func begin(_ backend: AppBackend) {
        self.backend = backend
        endpoint = nil
        retried = false
    }

    mutating func send(to endpoint: UpstreamEndpoint) {
        self.endpoint = endpoint
        endpoint.requestStarted()
    }

    /// The request is over for its instance: answered, failed or abandoned.
    mutating func finish() {
        endpoint?.requestFinished()
        endpoint = nil
    }

    /// Connecting to the current instance failed: the request is over there, and this is
    /// the instance to try instead, if any.
    mutating func connectFailed(idempotent: Bool) -> UpstreamEndpoint? {
        guard let failed = endpoint else { return nil }
        finish()
        guard !retried, idempotent, let other = backend?.pick(excluding: failed) else { return nil }
        retried = true
        return other
    }
}
