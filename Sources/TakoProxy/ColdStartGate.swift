import TakoCore
import NIOCore

/// Holds requests for an app that has no healthy instance while its owner starts one.
///
/// The owner creates one gate per app and keeps it across routing snapshots (each new
/// `AppBackend` for the app gets the same gate). The first request that finds no healthy
/// instance asks the owner to start one; it and every request after it wait — up to the
/// proxy's `coldStartTimeout`, at most `maxWaiting` of them — until the owner says the
/// instance is ready (they are served), failed (502) or the wait runs out (504). A full
/// queue is answered 503 with `Retry-After`.
public final class ColdStartGate: Sendable {
    enum Outcome: Sendable {
        case ready
        case failed
        case timedOut
    }

    private struct Waiter {
        var eventLoop: any EventLoop
        var resume: @Sendable (Outcome) -> Void
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
        var starting = false
    }

    public let maxWaiting: Int
    private let start: @Sendable () -> Void
    private let state = Locked(State())

    /// `start` asks the owner for an instance; it is called once per start attempt, on
    /// whatever thread the first waiting request runs, and must not block.
    public init(maxWaiting: Int = 1000, start: @escaping @Sendable () -> Void) {
        self.maxWaiting = maxWaiting
        self.start = start
    }

    /// Requests waiting now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Registers a waiting request; `resume` runs on `eventLoop` exactly once. Returns false
    /// (and never calls `resume`) when the queue is full.
    func wait(on eventLoop: any EventLoop, timeout: TimeAmount, _ resume: @escaping @Sendable (Outcome) -> Void) -> Bool {
        let registered: (id: UInt64, startNow: Bool)? = state.withLock { state in
            guard state.waiters.count < maxWaiting else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = Waiter(eventLoop: eventLoop, resume: resume)
            let startNow = !state.starting
            state.starting = true
            return (id, startNow)
        }
        guard let registered else { return false }
        eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let waiter = self?.state.withLock({ $0.waiters.removeValue(forKey: registered.id) }) else { return }
            waiter.resume(.timedOut)
        }
        if registered.startNow { start() }
        return true
    }

    /// The owner: an instance is healthy and published in the current snapshot.
    public func ready() {
        finish(.ready)
    }

    /// The owner: starting an instance failed; every waiting request gets 502.
    public func failed() {
        finish(.failed)
    }

    private func finish(_ outcome: Outcome) {
        let waiters = state.withLock { state -> [Waiter] in
            state.starting = false
            let all = Array(state.waiters.values)
            state.waiters.removeAll()
            return all
        }
        for waiter in waiters {
            let resume = waiter.resume
            waiter.eventLoop.execute { resume(outcome) }
        }
    }
}
