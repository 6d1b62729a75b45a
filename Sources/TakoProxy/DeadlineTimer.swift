import NIOCore

/// One scheduled check that serves a deadline which moves on every request.
///
/// Moving the deadline later costs nothing; a check that fires before the current deadline
/// re-arms itself. A keep-alive connection therefore schedules a timer now and then rather
/// than scheduling and cancelling one per request.
struct DeadlineTimer {
    private var scheduled: Scheduled<Void>?
    private var firesAt = NIODeadline.distantFuture

    /// Makes sure a check runs no later than `deadline`. `makeCheck` is only called when a
    /// new check must be scheduled, so the common case allocates nothing.
    mutating func ensureCheck(
        by deadline: NIODeadline, on eventLoop: any EventLoop, _ makeCheck: () -> @Sendable () -> Void
    ) {
        guard deadline < firesAt else { return }
        scheduled?.cancel()
        firesAt = deadline
        scheduled = eventLoop.scheduleTask(deadline: deadline, makeCheck())
    }

    /// Call first thing in `check`: the scheduled check has run.
    mutating func fired() {
        scheduled = nil
        firesAt = .distantFuture
    }

    mutating func cancel() {
        scheduled?.cancel()
        fired()
    }
}
