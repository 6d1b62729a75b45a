import TakoCore

/// One instance as the owner sees it: enough to route to it and to report it.
public struct InstanceSnapshot: Sendable, Hashable {
    public var app: String
    public var id: Int
    public var port: Int
    public var state: InstanceStatus.State
    public var version: String
    /// The process, while one runs (its group id too).
    public var pid: Int32?
    public var releasePath: String
}

/// Traffic through one instance, as counted by the proxy.
public struct InstanceTraffic: Sendable, Hashable {
    public var inFlight: Int
    public var total: Int

    public init(inFlight: Int, total: Int) {
        self.inFlight = inFlight
        self.total = total
    }
}

/// The owner of the proxy: told whenever an app's instances change (to publish a new routing
/// snapshot), and asked how busy an instance is (to drain it and to find idle ones).
public protocol AppSupervisorObserver: Sendable {
    /// Called on the supervisor's actor; must not block.
    func instancesChanged(app: String, instances: [InstanceSnapshot])
    func traffic(app: String, instance: Int, port: Int) -> InstanceTraffic
}
