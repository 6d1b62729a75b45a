/// Delays between restarts of a crashing instance: 1 s doubling to 30 s. A run that lasted
/// at least the longest delay counts as recovered and starts the sequence over, so an app
/// that crashes once a day restarts at once, and a crash loop settles at one try per 30 s.
public struct RestartBackoff: Sendable, Hashable {
    public var initial: Duration = .seconds(1)
    public var maximum: Duration = .seconds(30)
    private var next: Duration?

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next start, given how long the last run lasted.
    public mutating func delay(afterRunning uptime: Duration) -> Duration {
        if uptime >= maximum { next = nil }
        let delay = next ?? initial
        next = min(delay * 2, maximum)
        return delay
    }
}
