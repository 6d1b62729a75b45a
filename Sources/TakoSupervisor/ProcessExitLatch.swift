import TakoCore

/// Remembers how a process ended and wakes everyone waiting for it: whoever asks after the
/// exit gets the answer at once. Shared by every `ManagedProcess`.
public final class ProcessExitLatch: Sendable {
    private let state = Locked<(exit: ProcessExit?, waiters: [CheckedContinuation<ProcessExit, Never>])>((nil, []))

    public init() {}

    public var exit: ProcessExit? { state.withLock { $0.exit } }

    /// Returns once `complete` was called (at once if it was).
    public func wait() async -> ProcessExit {
        await withCheckedContinuation { continuation in
            let exit: ProcessExit? = state.withLock { state in
                if let exit = state.exit { return exit }
                state.waiters.append(continuation)
                return nil
            }
            if let exit { continuation.resume(returning: exit) }
        }
    }

    /// Records the exit (the first one only) and wakes the waiters.
    public func complete(_ exit: ProcessExit) {
        let waiters = state.withLock { state -> [CheckedContinuation<ProcessExit, Never>] in
            guard state.exit == nil else { return [] }
            state.exit = exit
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: exit) }
    }

    /// Runs `body` unless the exit was recorded, with the exit held off until it returns (so
    /// a signal is never sent to a process group that was already reaped).
    public func unlessExited(_ body: () -> Void) {
        state.withLock { state in
            if state.exit == nil { body() }
        }
    }
}
