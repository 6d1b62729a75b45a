/// Asks an instance whether it serves HTTP. Injected so the supervisor's logic can be
/// tested without sockets.
public protocol HealthProber: Sendable {
    /// `GET path` on `127.0.0.1:port`: the response's status code, or nil when there was no
    /// answer within `timeout` (refused, reset, hung, not HTTP).
    func probe(port: Int, path: String, timeout: Duration) async -> Int?
}
