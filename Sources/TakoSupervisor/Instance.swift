import TakoCore

/// One instance of an app: a process that is restarted when it dies, for as long as it is
/// wanted. Owned by its `AppSupervisor` and only touched on that actor.
final class Instance {
    let id: Int
    /// The release it runs.
    let spec: AppSpec
    var port = 0
    var process: (any ManagedProcess)?
    var state = InstanceStatus.State.starting
    /// Restarted when it exits; false once it is being stopped.
    var wanted = true
    /// Started by a deploy or a cold start and not yet healthy: if it dies, it is not
    /// restarted, the waiter is told instead.
    var isCandidate: Bool
    /// Started for a waiting request: probed fast while starting.
    var isColdStart = false
    var monitor: HealthMonitor
    var backoff: RestartBackoff
    /// When the current process was launched.
    var launchedAt: Duration?
    /// Bumped at every launch, so events about an earlier process are ignored.
    var generation = 0
    var healthWaiters: [CheckedContinuation<Bool, Never>] = []
    var lastExit: ProcessExit?
    /// Requests served by earlier processes of this instance (the proxy counts per port).
    var requestsBefore = 0
    /// For idle detection: the last request count seen and when it changed.
    var lastTotal = 0
    var lastActivity: Duration = .zero

    init(id: Int, spec: AppSpec, isCandidate: Bool, settings: SupervisorSettings) {
        self.id = id
        self.spec = spec
        self.isCandidate = isCandidate
        monitor = HealthMonitor(settings: settings.health)
        backoff = RestartBackoff(initial: settings.backoffInitial, maximum: settings.backoffMaximum)
    }

    func resumeHealthWaiters(_ healthy: Bool) {
        let waiters = healthWaiters
        healthWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: healthy) }
    }
}
