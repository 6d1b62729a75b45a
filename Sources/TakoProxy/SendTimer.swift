import NIOCore

/// Closes a client connection that reads nothing of what it is sent for `sendTimeout`: a
/// reader that never catches up would hold its upstream connection and the app.
struct SendTimer {
    private var scheduled: Scheduled<Void>?

    /// Call from `channelWritabilityChanged`: unwritable starts the clock, writable stops it.
    mutating func writabilityChanged(_ channel: any Channel, timeout: TimeAmount) {
        if channel.isWritable {
            cancel()
        } else if scheduled == nil {
            scheduled = channel.eventLoop.scheduleTask(in: timeout) {
                // Still nothing read: the client is gone or stalling on purpose.
                if !channel.isWritable { channel.close(promise: nil) }
            }
        }
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}
