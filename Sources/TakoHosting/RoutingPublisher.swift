import NIOCore
import TakoCore
import TakoProxy
import TakoSupervisor

/// Turns the apps' routes and instances into the proxy's routing snapshot, and publishes a
/// new one whenever either changes. Endpoints are kept per instance process (app, id, port),
/// so the proxy's in-flight and request counters survive every republish.
public final class RoutingPublisher: AppSupervisorObserver {
    private struct EndpointKey: Hashable {
        var app: String
        var instance: Int
        var port: Int
    }

    private struct AppRouting {
        var patterns: [RoutePattern] = []
        var instances: [InstanceSnapshot] = []
        var coldStart: ColdStartGate?
    }

    private struct State {
        var apps: [String: AppRouting] = [:]
        var endpoints: [EndpointKey: UpstreamEndpoint] = [:]
        var table = RouteTable()
    }

    public let store: RoutingSnapshotStore
    private let state = Locked(State())
    /// Told about every change too (the runtime records the app's processes).
    private let onChange: @Sendable (String, [InstanceSnapshot]) -> Void

    public init(store: RoutingSnapshotStore, onChange: @escaping @Sendable (String, [InstanceSnapshot]) -> Void = { _, _ in }) {
        self.store = store
        self.onChange = onChange
    }

    /// The routes now being served, for conflict checks.
    public var table: RouteTable { state.withLock { $0.table } }

    /// Sets an app's routes (and its cold-start gate for on-demand apps).
    public func setRoutes(app: String, patterns: [RoutePattern], coldStart: ColdStartGate?) throws(RouteTableError) {
        try state.withLock { state throws(RouteTableError) in
            var routing = state.apps[app] ?? AppRouting()
            routing.patterns = patterns
            routing.coldStart = coldStart
            var candidate = state.apps
            candidate[app] = routing
            let table = try RouteTable(candidate.mapValues(\.patterns).filter { !$0.value.isEmpty })
            state.apps = candidate
            state.table = table
            publish(&state)
        }
    }

    public func removeApp(_ app: String) {
        state.withLock { state in
            state.apps[app] = nil
            state.table = (try? RouteTable(state.apps.mapValues(\.patterns).filter { !$0.value.isEmpty })) ?? RouteTable()
            publish(&state)
        }
    }

    public func instancesChanged(app: String, instances: [InstanceSnapshot]) {
        state.withLock { state in
            var routing = state.apps[app] ?? AppRouting()
            routing.instances = instances
            state.apps[app] = routing
            publish(&state)
        }
        onChange(app, instances)
    }

    public func traffic(app: String, instance: Int, port: Int) -> InstanceTraffic {
        let endpoint = state.withLock { $0.endpoints[EndpointKey(app: app, instance: instance, port: port)] }
        return InstanceTraffic(inFlight: endpoint?.inFlightRequests ?? 0, total: endpoint?.requestsTotal ?? 0)
    }

    private func publish(_ state: inout State) {
        var endpoints: [EndpointKey: UpstreamEndpoint] = [:]
        var backends: [String: AppBackend] = [:]
        for (app, routing) in state.apps {
            var healthy: [UpstreamEndpoint] = []
            for instance in routing.instances where instance.port > 0 {
                let key = EndpointKey(app: app, instance: instance.id, port: instance.port)
                let endpoint = state.endpoints[key] ?? UpstreamEndpoint(
                    address: try! SocketAddress(ipAddress: "127.0.0.1", port: instance.port), name: "\(app)#\(instance.id)")
                endpoints[key] = endpoint
                if instance.state == .healthy { healthy.append(endpoint) }
            }
            backends[app] = AppBackend(name: app, endpoints: healthy, coldStart: routing.coldStart)
        }
        state.endpoints = endpoints
        store.publish(RoutingSnapshot(routes: state.table, apps: backends))
    }
}
