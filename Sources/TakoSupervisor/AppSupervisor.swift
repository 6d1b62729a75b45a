import Foundation
import TakoCore

/// Runs one app's instances: launches them, probes their health, restarts the ones that die,
/// rolls out new releases one instance at a time, starts one on demand and stops idle ones.
///
/// Every change to the set of routable instances is reported to the observer at once, so the
/// proxy's routing snapshot follows the instances without asking.
public actor AppSupervisor {
    public struct Dependencies: Sendable {
        public var launcher: any ProcessLauncher
        public var prober: any HealthProber
        public var clock: any SupervisorClock
        public var observer: any AppSupervisorObserver
        public var settings: SupervisorSettings
        /// The server's own environment, of which instances inherit PATH and locale.
        public var inheritedEnvironment: [String: String]

        public init(
            launcher: any ProcessLauncher = PosixProcessLauncher(), prober: any HealthProber = HTTPHealthProber(),
            clock: any SupervisorClock = SystemClock(), observer: any AppSupervisorObserver,
            settings: SupervisorSettings = SupervisorSettings(),
            inheritedEnvironment: [String: String] = ProcessInfo.processInfo.environment
        ) {
            self.launcher = launcher
            self.prober = prober
            self.clock = clock
            self.observer = observer
            self.settings = settings
            self.inheritedEnvironment = inheritedEnvironment
        }
    }

    public nonisolated let name: String
    public nonisolated let log: AppLog
    private let dependencies: Dependencies
    private var settings: SupervisorSettings { dependencies.settings }
    private var clock: any SupervisorClock { dependencies.clock }

    /// The release serving traffic (nil before the first successful deploy).
    public private(set) var spec: AppSpec?
    public private(set) var deployedAt: Date?
    private var instances: [Instance] = []
    private var nextInstanceID = 1
    private var state = AppStatus.State.stopped
    private var lastError: String?
    private var deploying = false
    private var idleTask: Task<Void, Never>?

    public init(name: String, logDirectory: String, dependencies: Dependencies) throws {
        self.name = name
        self.log = try AppLog(directory: logDirectory)
        self.dependencies = dependencies
    }

    // MARK: Commands

    /// Rolls out `spec`: for each target instance, start a new one, wait until it is healthy
    /// (it joins the balancer), then drain and stop one old instance. Any failure stops the
    /// new instances, brings back the old ones that were already replaced, and throws the
    /// reason with the failing instance's last log lines.
    public func deploy(_ spec: AppSpec) async throws(SupervisorError) {
        guard !deploying else {
            throw SupervisorError("a deploy of '\(name)' is already running", hint: "wait for it to finish, then try again")
        }
        deploying = true
        defer { deploying = false }
        let previousState = state
        state = .deploying
        let old = instances.filter(\.wanted)
        let oldSpec = self.spec
        let target = max(spec.instances, 1)
        log.append(instance: nil, stream: .tako, "deploying \(spec.version) with \(target) instance(s)")
        var started: [Instance] = []
        var replaced: [Instance] = []
        for index in 0..<target {
            let candidate = addInstance(spec, candidate: true)
            if let failure = await startAndWait(candidate) {
                await stop(candidate, drain: false)
                await rollBack(started: started, replaced: replaced, to: oldSpec)
                // The old release keeps its state; a first deploy that fails leaves an error.
                state = !old.isEmpty ? .running : oldSpec == nil ? .error : previousState
                let message = "the new release \(spec.version) of '\(name)' did not start: \(failure)"
                lastError = message
                log.append(instance: nil, stream: .tako, message)
                throw SupervisorError(
                    message + Self.quoted(log.lastLines(settings.failureLogLines), instance: candidate.id),
                    hint: old.isEmpty ? "fix the app and deploy again" : "the previous release keeps serving; fix the app and deploy again")
            }
            candidate.isCandidate = false
            started.append(candidate)
            if index < old.count {
                await stop(old[index], drain: true)
                replaced.append(old[index])
            }
        }
        for extra in old.dropFirst(target) { await stop(extra, drain: true) }
        self.spec = spec
        deployedAt = Date()
        lastError = nil
        if spec.instances == 0 {
            // On demand: the validation instance proved the release starts; go idle.
            for instance in started { await stop(instance, drain: true) }
            state = .idle
        } else {
            state = .running
        }
        log.append(instance: nil, stream: .tako, "deployed \(spec.version)")
        startIdleChecks()
    }

    /// Takes up the release again after a server restart: the minimum number of instances,
    /// restarted as usual if they fail (nothing waits for them to become healthy); a stopped
    /// app stays stopped.
    public func resume(_ spec: AppSpec, deployedAt: Date?, stopped: Bool = false) {
        self.spec = spec
        self.deployedAt = deployedAt
        if stopped {
            state = .stopped
            return
        }
        state = spec.instances == 0 ? .idle : .running
        for _ in 0..<spec.instances {
            let instance = addInstance(spec, candidate: false)
            launch(instance)
        }
        startIdleChecks()
    }

    /// For an on-demand app with no healthy instance: start one and wait until it is healthy
    /// (then it is already in the published snapshot). False when it failed to start.
    public func coldStart() async -> Bool {
        guard let spec, state != .stopped else { return false }
        if instances.contains(where: { $0.wanted && $0.state == .healthy }) { return true }
        if let starting = instances.first(where: { $0.wanted && $0.state == .starting }) {
            return await waitHealthy(starting)
        }
        let instance = addInstance(spec, candidate: true)
        instance.isColdStart = true
        if let failure = await startAndWait(instance) {
            lastError = "instance \(instance.id) did not start on demand: \(failure)"
            await stop(instance, drain: false)
            return false
        }
        instance.isCandidate = false
        instance.lastActivity = clock.now
        state = .running
        return true
    }

    /// Rolling restart of the current release with new secrets (`update_secrets`) or as is
    /// (`reload`).
    public func restart(secrets: [String: String]? = nil) async throws(SupervisorError) {
        guard var spec else { throw SupervisorError("'\(name)' has no release to restart", hint: "deploy it first") }
        if let secrets { spec.secrets = secrets }
        if state == .idle || state == .stopped {
            self.spec = spec
            if state == .stopped { resume(spec, deployedAt: deployedAt) }
            return
        }
        try await deploy(spec)
    }

    /// Stops every instance (draining them), keeping the release: `stop` and `delete`.
    public func stopAll() async {
        idleTask?.cancel()
        idleTask = nil
        state = .stopped
        for instance in instances where instance.wanted {
            await stop(instance, drain: true)
        }
        // Let the exit handlers (queued on this actor) record every exit before returning, so
        // a server that exits next leaves nothing half-written.
        for _ in 0..<1000 where !instances.isEmpty { await Task.yield() }
        log.append(instance: nil, stream: .tako, "stopped")
    }

    public func status() -> AppStatus {
        let now = clock.now
        return AppStatus(
            name: name, version: spec?.version ?? "", env: spec?.env, state: state, lastError: lastError,
            instances: instances.map { instance in
                let traffic = dependencies.observer.traffic(app: name, instance: instance.id, port: instance.port)
                return InstanceStatus(
                    id: instance.id, state: instance.state, port: instance.port, pid: instance.process?.pid,
                    uptimeSecs: instance.launchedAt.map { Int((now - $0).components.seconds) } ?? 0,
                    requestsTotal: instance.requestsBefore + traffic.total)
            },
            deployedAt: deployedAt)
    }

    /// Whether the app counts as healthy for `/_tako/status`: an app that should be serving
    /// has at least one healthy instance and none failing.
    public var isHealthy: Bool {
        switch state {
        case .running:
            // A failed deploy's error stays visible in status, but the release still serving
            // decides health.
            instances.contains { $0.wanted } && instances.allSatisfy { !$0.wanted || $0.state == .healthy }
        case .idle, .deploying, .stopped: true
        case .error: false
        }
    }

    /// Whether the app can take traffic now: every instance it keeps running is healthy
    /// (idle and stopped apps count; on-demand apps start on their first request).
    public var isServing: Bool {
        switch state {
        case .running, .deploying:
            let wanted = instances.filter(\.wanted)
            return wanted.count >= (spec?.instances ?? 0) && wanted.allSatisfy { $0.state == .healthy }
        case .idle, .stopped: return true
        case .error: return false
        }
    }

    // MARK: Instances

    private func addInstance(_ spec: AppSpec, candidate: Bool) -> Instance {
        let instance = Instance(id: nextInstanceID, spec: spec, isCandidate: candidate, settings: settings)
        nextInstanceID += 1
        instances.append(instance)
        return instance
    }

    /// Launches `instance` and waits until it is healthy; the reason when it is not.
    private func startAndWait(_ instance: Instance) async -> String? {
        launch(instance)
        let healthy = await waitHealthy(instance)
        if healthy { return nil }
        if let exit = instance.lastExit { return "instance \(instance.id) \(exit)" }
        if instance.process == nil { return lastError ?? "instance \(instance.id) could not be launched" }
        return "instance \(instance.id) did not answer its health check within \(settings.startTimeout.secondsText)"
    }

    private func waitHealthy(_ instance: Instance) async -> Bool {
        if instance.state == .healthy { return true }
        guard instance.wanted, instance.process != nil else { return false }
        return await withCheckedContinuation { instance.healthWaiters.append($0) }
    }

    private func launch(_ instance: Instance) {
        guard instance.wanted else { return }
        instance.generation += 1
        let generation = instance.generation
        instance.state = .starting
        var health = settings.health
        if instance.isColdStart { health.startingInterval = settings.coldStartProbeInterval }
        instance.monitor = HealthMonitor(settings: health)
        instance.lastExit = nil
        do {
            instance.port = try FreePort.pick()
            let spec = instance.spec
            let environment = spec.environment(
                port: instance.port, instance: instance.id, inherited: dependencies.inheritedEnvironment)
            let log = self.log
            let id = instance.id
            instance.process = try dependencies.launcher.launch(
                LaunchSpec(command: spec.start.command, directory: spec.releasePath, environment: environment)
            ) { stream, line in log.append(instance: id, stream: stream, line) }
        } catch {
            instance.process = nil
            let message = "instance \(instance.id) could not be launched: \((error as? any UserFacingError)?.message ?? "\(error)")"
            lastError = message
            log.append(instance: nil, stream: .tako, message)
            instance.resumeHealthWaiters(false)
            if instance.isCandidate { instance.wanted = false; instance.state = .stopped } else { scheduleRestart(instance, uptime: .zero) }
            return
        }
        instance.launchedAt = clock.now
        instance.lastTotal = 0
        instance.lastActivity = clock.now
        guard let process = instance.process else { return }
        log.append(instance: instance.id, stream: .tako, "started \(instance.spec.version) on port \(instance.port) (pid \(process.pid))")
        Task { [self] in
            let exit = await process.exited()
            self.exited(instance, generation: generation, exit: exit)
        }
        Task { [self] in await self.probe(instance, generation: generation) }
        Task { [self] in
            try? await self.clock.sleep(for: self.settings.startTimeout)
            await self.startDeadlinePassed(instance, generation: generation)
        }
        publish()
    }

    private func probe(_ instance: Instance, generation: Int) async {
        while instance.generation == generation, instance.process != nil, instance.state != .stopped {
            do { try await clock.sleep(for: instance.monitor.nextProbeDelay) } catch { return }
            guard instance.generation == generation, instance.process != nil, instance.state != .draining else {
                if instance.state == .draining { continue }
                return
            }
            let status = await dependencies.prober.probe(
                port: instance.port, path: instance.spec.healthPath, timeout: settings.health.timeout)
            guard instance.generation == generation, instance.process != nil, instance.state != .draining else { continue }
            let success = status.map { HealthMonitor.isSuccess(status: $0, explicitPath: instance.spec.healthPathIsExplicit) } ?? false
            switch instance.monitor.record(success: success) {
            case .none:
                break
            case .markHealthy:
                instance.state = .healthy
                instance.isColdStart = false
                if instance.isCandidate == false { clearErrorIfHealthy() }
                log.append(instance: instance.id, stream: .tako, "healthy")
                publish()
                instance.resumeHealthWaiters(true)
            case .markUnhealthy:
                instance.state = .unhealthy
                log.append(instance: instance.id, stream: .tako, "unhealthy: \(instance.monitor.consecutiveFailures) health checks failed")
                publish()
            case .restart:
                let message = "instance \(instance.id) failed \(instance.monitor.consecutiveFailures) health checks in a row; restarting it"
                lastError = message
                log.append(instance: instance.id, stream: .tako, message)
                instance.state = .unhealthy
                publish()
                await terminate(instance)
                return
            }
        }
    }

    private func startDeadlinePassed(_ instance: Instance, generation: Int) async {
        guard instance.generation == generation, instance.state == .starting, instance.process != nil else { return }
        let message = "instance \(instance.id) did not answer its health check within \(settings.startTimeout.secondsText)"
        log.append(instance: instance.id, stream: .tako, message)
        instance.resumeHealthWaiters(false)
        if !instance.isCandidate {
            lastError = message
            await terminate(instance)
        }
    }

    private func exited(_ instance: Instance, generation: Int, exit: ProcessExit) {
        guard instance.generation == generation else { return }
        instance.process = nil
        instance.lastExit = exit
        instance.requestsBefore += dependencies.observer.traffic(app: name, instance: instance.id, port: instance.port).total
        let uptime = instance.launchedAt.map { clock.now - $0 } ?? .zero
        log.append(instance: instance.id, stream: .tako, "\(exit)")
        instance.resumeHealthWaiters(false)
        if instance.wanted && instance.isCandidate {
            // A deploy or cold start is waiting on it and decides what happens next.
            instance.wanted = false
        }
        if instance.wanted {
            lastError = "instance \(instance.id) \(exit)"
            instance.state = .stopped
            publish()
            scheduleRestart(instance, uptime: uptime)
        } else {
            instance.state = .stopped
            instances.removeAll { $0 === instance }
            publish()
        }
    }

    private func scheduleRestart(_ instance: Instance, uptime: Duration) {
        let delay = instance.backoff.delay(afterRunning: uptime)
        let generation = instance.generation
        log.append(instance: instance.id, stream: .tako, "restarting in \(delay.secondsText)")
        Task { [self] in
            try? await self.clock.sleep(for: delay)
            self.restartIfStillWanted(instance, generation: generation)
        }
    }

    private func restartIfStillWanted(_ instance: Instance, generation: Int) {
        guard instance.wanted, instance.generation == generation, instance.process == nil else {
            if !instance.wanted, instance.process == nil {
                instances.removeAll { $0 === instance }
                publish()
            }
            return
        }
        launch(instance)
    }

    /// Takes `instance` out of the balancer, lets its requests finish (when `drain`), then
    /// stops its process group.
    private func stop(_ instance: Instance, drain: Bool) async {
        instance.wanted = false
        instance.resumeHealthWaiters(false)
        guard instance.process != nil else {
            instance.state = .stopped
            instances.removeAll { $0 === instance }
            publish()
            return
        }
        instance.state = .draining
        publish()
        if drain {
            let deadline = clock.now + settings.drainTimeout
            while clock.now < deadline,
                dependencies.observer.traffic(app: name, instance: instance.id, port: instance.port).inFlight > 0
            {
                try? await clock.sleep(for: .milliseconds(20))
            }
        }
        await terminate(instance)
    }

    /// SIGTERM to the process group, SIGKILL after the grace period; returns once it exited.
    private func terminate(_ instance: Instance) async {
        guard let process = instance.process else { return }
        process.signalGroup(SIGTERM)
        let clock = self.clock
        let grace = settings.stopGrace
        let exitedInTime = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await process.exited(); return true }
            group.addTask {
                try? await clock.sleep(for: grace)
                return false
            }
            let first = await group.next() ?? true
            if !first { process.signalGroup(SIGKILL) }
            group.cancelAll()
            return first
        }
        if !exitedInTime {
            log.append(instance: instance.id, stream: .tako, "did not stop within \(grace.secondsText) of SIGTERM; killed")
        }
        // Let the exit handler (queued on this actor) run before the caller goes on.
        await Task.yield()
    }

    private func clearErrorIfHealthy() {
        if state == .running, lastError != nil,
            instances.filter(\.wanted).allSatisfy({ $0.state == .healthy })
        {
            lastError = nil
        }
    }

    /// After a failed deploy: the old release comes back for every instance it lost, then the
    /// new instances leave.
    private func rollBack(started: [Instance], replaced: [Instance], to oldSpec: AppSpec?) async {
        if let oldSpec {
            for _ in replaced {
                let instance = addInstance(oldSpec, candidate: false)
                launch(instance)
                _ = await waitHealthy(instance)
            }
        }
        for instance in started { await stop(instance, drain: true) }
    }

    // MARK: Idle

    private func startIdleChecks() {
        guard idleTask == nil else { return }
        idleTask = Task { [self] in
            while !Task.isCancelled {
                do { try await self.clock.sleep(for: self.settings.idleCheckInterval) } catch { return }
                await self.stopIdleInstances()
            }
        }
    }

    /// Stops healthy instances above the minimum that served nothing for `idle_timeout`.
    private func stopIdleInstances() async {
        guard let spec, state == .running || state == .idle, !deploying else { return }
        let now = clock.now
        var running = instances.filter(\.wanted)
        for instance in running where instance.state == .healthy {
            let traffic = dependencies.observer.traffic(app: name, instance: instance.id, port: instance.port)
            if traffic.total != instance.lastTotal || traffic.inFlight > 0 {
                instance.lastTotal = traffic.total
                instance.lastActivity = now
            }
        }
        guard spec.idleTimeout > .zero else { return }
        while running.count > spec.instances,
            let idle = running.first(where: { $0.state == .healthy && now - $0.lastActivity >= spec.idleTimeout })
        {
            log.append(instance: idle.id, stream: .tako, "idle for \(spec.idleTimeout.secondsText); stopping")
            running.removeAll { $0 === idle }
            await stop(idle, drain: true)
        }
        if spec.instances == 0, !instances.contains(where: \.wanted), state == .running { state = .idle }
    }

    private func publish() {
        dependencies.observer.instancesChanged(
            app: name,
            instances: instances.map {
                InstanceSnapshot(
                    app: name, id: $0.id, port: $0.port, state: $0.state, version: $0.spec.version, pid: $0.process?.pid,
                    releasePath: $0.spec.releasePath)
            })
    }

    private static func quoted(_ lines: [String], instance: Int) -> String {
        let own = lines.filter { $0.contains("[instance \(instance) ") }
        guard !own.isEmpty else { return "" }
        return "\nlast log lines of instance \(instance):\n" + own.map { "  " + $0 }.joined(separator: "\n")
    }
}

extension Duration {
    /// "30 s", "1.5 s", "250 ms".
    var secondsText: String {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if millis % 1000 == 0 { return "\(millis / 1000) s" }
        if millis < 1000 { return "\(millis) ms" }
        return "\(Double(millis) / 1000) s"
    }
}
