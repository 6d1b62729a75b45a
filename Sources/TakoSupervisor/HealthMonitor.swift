/// The health state machine of one instance (DESIGN §6), fed one probe result at a time.
///
/// Pure and clock-free: the caller sleeps `nextProbeDelay` between probes, so tests drive it
/// step by step without waiting.
public struct HealthMonitor: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// Launched, not yet answered a probe.
        case starting
        /// In the balancer.
        case healthy
        /// Out of the balancer after consecutive failures; one success brings it back.
        case unhealthy
    }

    /// What the caller does after a probe.
    public enum Action: Sendable, Hashable {
        case none
        case markHealthy
        case markUnhealthy
        /// Too many failures in a row: stop the process and start it again.
        case restart
    }

    public struct Settings: Sendable, Hashable {
        public var interval: Duration = .seconds(1)
        public var startingInterval: Duration = .milliseconds(100)
        public var timeout: Duration = .seconds(2)
        /// Consecutive failures that take a healthy instance out of the balancer.
        public var unhealthyAfter = 2
        /// Consecutive failures that restart it.
        public var restartAfter = 5

        public init() {}
    }

    public let settings: Settings
    public private(set) var phase = Phase.starting
    public private(set) var consecutiveFailures = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// How long to wait before the next probe: fast while starting, so a ready app is in the
    /// balancer within 100 ms of answering.
    public var nextProbeDelay: Duration {
        phase == .starting ? settings.startingInterval : settings.interval
    }

    public mutating func record(success: Bool) -> Action {
        if success {
            consecutiveFailures = 0
            guard phase != .healthy else { return .none }
            phase = .healthy
            return .markHealthy
        }
        // While starting, failures are expected (the app is booting); the start deadline
        // decides when it has taken too long.
        guard phase != .starting else { return .none }
        consecutiveFailures += 1
        if consecutiveFailures >= settings.restartAfter { return .restart }
        if consecutiveFailures >= settings.unhealthyAfter, phase == .healthy {
            phase = .unhealthy
            return .markUnhealthy
        }
        return .none
    }

    /// Whether a probe's HTTP status counts as alive. On the default path any answer below
    /// 500 proves the process serves HTTP (an app need not implement it); a path the app
    /// configured must answer 2xx or 3xx.
    public static func isSuccess(status: Int, explicitPath: Bool) -> Bool {
        explicitPath ? (200..<400).contains(status) : (200..<500).contains(status)
    }
}
