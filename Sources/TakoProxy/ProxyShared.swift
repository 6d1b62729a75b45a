import NIOCore
import NIOHTTP1
import Synchronization

/// What every connection of one proxy server shares: configuration, the routing snapshot and
/// the owner's hooks. Immutable or atomic, so any event loop reads it without waiting.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let snapshots: RoutingSnapshotStore
    let statusHandler: ProxyServer.StatusHandler?
    let requestIDs = RequestIDGenerator()

    init(configuration: ProxyConfiguration, snapshots: RoutingSnapshotStore, statusHandler: ProxyServer.StatusHandler?) {
        self.configuration = configuration
        self.snapshots = snapshots
        self.statusHandler = statusHandler
    }
}

/// `X-Request-ID` values: a random prefix per process and a counter, so generating one costs
/// an atomic increment rather than a call into the system's random source.
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        prefix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(value, radix: 16)
    }
}
