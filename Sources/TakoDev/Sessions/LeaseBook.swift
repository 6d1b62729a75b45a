/// Who is using each dev app, and when an app nobody uses any more should go.
///
/// Every `tako dev` session (the owner and any that attached) holds a lease it renews with
/// heartbeats. When the last session leaves — it says goodbye, or stops sending heartbeats —
/// the app and its routes stay for a grace period (so a restarted `tako dev` finds them), then
/// go; an idle app (its process stopped for lack of requests) goes at once. Pure bookkeeping
/// over times the caller passes in, so it is tested without sleeping.
public struct LeaseBook: Sendable {
    public struct Settings: Sendable {
        /// How long an app outlives its last session (10 min in release builds, 10 s in debug).
        public var grace: Double
        /// A session not heard from for this long is gone.
        public var heartbeatTimeout: Double

        public init(grace: Double, heartbeatTimeout: Double = 15) {
            self.grace = grace
            self.heartbeatTimeout = heartbeatTimeout
        }

        /// The product's defaults for this build.
        public static var standard: Settings {
            #if DEBUG
            Settings(grace: 10)
            #else
            Settings(grace: 600)
            #endif
        }
    }

    private struct Lease {
        /// Session id → when it was last heard from.
        var sessions: [String: Double] = [:]
        /// When the last session left (nil while one is live or none has left yet).
        var leftAt: Double?
        var idle = false
    }

    public let settings: Settings
    private var leases: [String: Lease] = [:]

    public init(settings: Settings = .standard) {
        self.settings = settings
    }

    /// The apps with a lease.
    public var apps: [String] { leases.keys.sorted() }

    /// A session starts using `app` (the owner registering it, or another attaching).
    public mutating func join(_ app: String, session: String, at now: Double) {
        leases[app, default: Lease()].sessions[session] = now
        leases[app]?.leftAt = nil
    }

    public mutating func heartbeat(_ app: String, session: String, at now: Double) {
        guard leases[app]?.sessions[session] != nil else { return join(app, session: session, at: now) }
        leases[app]?.sessions[session] = now
    }

    /// A session says goodbye.
    public mutating func leave(_ app: String, session: String, at now: Double) {
        guard leases[app]?.sessions.removeValue(forKey: session) != nil else { return }
        if leases[app]?.sessions.isEmpty == true { leases[app]?.leftAt = now }
    }

    /// The app's process stopped (or started again) for lack of (or with) requests.
    public mutating func setIdle(_ app: String, _ idle: Bool) {
        leases[app]?.idle = idle
    }

    /// How many sessions are live for `app` (the dashboard shows it).
    public mutating func liveSessions(_ app: String, at now: Double) -> Int {
        expireSessions(app, at: now)
        return leases[app]?.sessions.count ?? 0
    }

    /// Removes and returns the apps whose time is up at `now`.
    public mutating func collect(at now: Double) -> [String] {
        var gone: [String] = []
        for app in leases.keys.sorted() {
            expireSessions(app, at: now)
            guard let lease = leases[app], lease.sessions.isEmpty else { continue }
            let left = lease.leftAt ?? now
            if lease.idle || now >= left + settings.grace {
                gone.append(app)
                leases[app] = nil
            }
        }
        return gone
    }

    /// Sessions silent for longer than the timeout left when they were last heard from.
    private mutating func expireSessions(_ app: String, at now: Double) {
        guard let lease = leases[app] else { return }
        let silent = lease.sessions.filter { now - $0.value > settings.heartbeatTimeout }
        guard !silent.isEmpty else { return }
        for (session, _) in silent { leases[app]?.sessions[session] = nil }
        if leases[app]?.sessions.isEmpty == true {
            let lastHeard = silent.values.max() ?? now
            let earlier = leases[app]?.leftAt ?? 0
            leases[app]?.leftAt = max(earlier, lastHeard + settings.heartbeatTimeout)
        }
    }
}
