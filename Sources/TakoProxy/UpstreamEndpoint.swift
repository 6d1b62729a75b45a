import NIOCore
import Synchronization

/// One instance of an app that the proxy can send requests to: its address, whether it is
/// healthy, and how many requests it is serving now (for the balancer).
///
/// The owner creates endpoints and flips `isHealthy`; the proxy counts in-flight requests.
/// Both are atomics so neither side waits for the other.
public final class UpstreamEndpoint: Sendable {
    public let address: SocketAddress
    /// A stable name for logs (e.g. the instance id).
    public let name: String
    private let healthy: Atomic<Bool>
    private let inFlight = Atomic<Int>(0)
    private let total = Atomic<Int>(0)

    public init(address: SocketAddress, name: String? = nil, isHealthy: Bool = true) {
        self.address = address
        self.name = name ?? address.description
        self.healthy = Atomic(isHealthy)
    }

    public var isHealthy: Bool {
        get { healthy.load(ordering: .relaxed) }
        set { healthy.store(newValue, ordering: .relaxed) }
    }

    /// Requests sent to this endpoint whose response has not finished.
    public var inFlightRequests: Int { inFlight.load(ordering: .relaxed) }

    /// Requests sent to this endpoint since it was created (status, idle detection).
    public var requestsTotal: Int { total.load(ordering: .relaxed) }

    func requestStarted() {
        inFlight.add(1, ordering: .relaxed)
        total.add(1, ordering: .relaxed)
    }
    func requestFinished() { inFlight.subtract(1, ordering: .relaxed) }
}
