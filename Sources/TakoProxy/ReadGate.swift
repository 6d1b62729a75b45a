/// Back-pressure on one channel: while paused, the `read()` NIO asks for is held back (the
/// socket's bytes stay in the kernel) and issued once reads resume.
///
/// It only decides; the caller issues the read. A read can deliver data at once, and the
/// handler reacting to it may pause again, so the gate must not be mid-mutation then.
struct ReadGate {
    private(set) var isPaused = false
    /// NIO asked for a read while paused.
    private(set) var holdsRead = false

    /// For the handler's `read(context:)`: true to pass the read on now.
    mutating func read() -> Bool {
        if isPaused { holdsRead = true }
        return !isPaused
    }

    mutating func pause() {
        isPaused = true
    }

    /// True when a held read should be issued now.
    mutating func resume() -> Bool {
        guard isPaused else { return false }
        isPaused = false
        defer { holdsRead = false }
        return holdsRead
    }

    /// Forgets a held read: the channel stops being this handler's (a tunnel takes it over).
    mutating func reset() {
        isPaused = false
        holdsRead = false
    }
}
