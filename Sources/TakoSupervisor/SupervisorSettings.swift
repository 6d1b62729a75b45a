/// The supervisor's timings (DESIGN §6 defaults). Tests shorten some of them.
public struct SupervisorSettings: Sendable, Hashable {
    public var health = HealthMonitor.Settings()
    /// While a request waits for an on-demand instance, it is probed this often instead of
    /// every 100 ms: a loopback probe that is refused costs microseconds, and the waiting
    /// request should not wait for the next 100 ms tick (the cold-start budget is 20 ms on
    /// top of the app's own boot).
    public var coldStartProbeInterval: Duration = .milliseconds(5)
    /// A new instance must be healthy within this long.
    public var startTimeout: Duration = .seconds(30)
    /// How long a draining instance may finish its in-flight requests.
    public var drainTimeout: Duration = .seconds(30)
    /// After SIGTERM, how long before SIGKILL.
    public var stopGrace: Duration = .seconds(30)
    /// How often idle instances are looked for.
    public var idleCheckInterval: Duration = .seconds(1)
    public var backoffInitial: Duration = .seconds(1)
    public var backoffMaximum: Duration = .seconds(30)
    /// Log lines quoted in a failed deploy's error.
    public var failureLogLines = 20

    public init() {}
}
