import TakoCore

/// What the proxy routes by: the route table and, for each app in it, its backend. Immutable;
/// the owner builds a new one whenever routes or instances change and publishes it.
public final class RoutingSnapshot: Sendable {
    public let routes: RouteTable
    public let apps: [String: AppBackend]

    public init(routes: RouteTable = RouteTable(), apps: [String: AppBackend] = [:]) {
        self.routes = routes
        self.apps = apps
    }

    /// The backend for a request, or nil when no route matches.
    func backend(host: String, path: String) -> AppBackend? {
        guard let match = routes.match(host: host, path: path) else { return nil }
        return apps[match.app]
    }

    /// The backend of every request to `host`, whatever its path (`RouteTable.matchAnyPath`);
    /// nil when the path decides or no route matches.
    func backend(anyPathTo host: String) -> AppBackend? {
        guard let match = routes.matchAnyPath(host: host) else { return nil }
        return apps[match.app]
    }
}

/// Holds the current snapshot. Publishing swaps it atomically; a request reads whichever
/// snapshot is current when its head arrives and never waits for the owner.
public final class RoutingSnapshotStore: Sendable {
    private let current: Locked<RoutingSnapshot>

    public init(_ snapshot: RoutingSnapshot = RoutingSnapshot()) {
        current = Locked(snapshot)
    }

    public var snapshot: RoutingSnapshot {
        current.withLock { $0 }
    }

    public func publish(_ snapshot: RoutingSnapshot) {
        current.withLock { $0 = snapshot }
    }
}
