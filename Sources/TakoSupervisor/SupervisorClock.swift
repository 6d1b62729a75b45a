/// Time for the supervisor: a monotonic reading and a sleep. Injected so tests can run the
/// logic on their own clock; the daemon uses `ContinuousClock`.
public protocol SupervisorClock: Sendable {
    /// Time since an arbitrary fixed point; only differences mean anything.
    var now: Duration { get }
    func sleep(for duration: Duration) async throws
}

public struct SystemClock: SupervisorClock {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) async throws {
        try await ContinuousClock().sleep(for: duration)
    }
}
