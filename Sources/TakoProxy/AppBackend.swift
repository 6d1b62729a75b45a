import Synchronization

/// An app's upstream endpoints and the balancer state that picks among them.
public final class AppBackend: Sendable {
    public let name: String
    public let endpoints: [UpstreamEndpoint]
    /// Where requests wait while the owner starts an instance (on-demand apps); without one,
    /// no healthy instance means 503.
    public let coldStart: ColdStartGate?
    private let nextStart = Atomic<Int>(0)

    public init(name: String, endpoints: [UpstreamEndpoint], coldStart: ColdStartGate? = nil) {
        self.name = name
        self.endpoints = endpoints
        self.coldStart = coldStart
    }

    /// The healthy endpoint with the fewest in-flight requests; ties go round-robin, so equal
    /// endpoints share the load. `excluding` skips one that just refused a connection.
    public func pick(excluding excluded: UpstreamEndpoint? = nil) -> UpstreamEndpoint? {
        let count = endpoints.count
        guard count > 0 else { return nil }
        let start = nextStart.add(1, ordering: .relaxed).newValue
        var best: UpstreamEndpoint?
        var bestLoad = Int.max
        for offset in 0..<count {
            let endpoint = endpoints[Int(UInt(bitPattern: start &+ offset) % UInt(count))]
            guard endpoint.isHealthy, endpoint !== excluded else { continue }
            let load = endpoint.inFlightRequests
            if load < bestLoad {
                best = endpoint
                bestLoad = load
            }
        }
        return best
    }
}
