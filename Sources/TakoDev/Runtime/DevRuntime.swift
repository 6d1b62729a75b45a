import Foundation
import TakoCore
import TakoHosting
import TakoProxy
import TakoSupervisor

/// The dev daemon's apps: each registered project's process (through an `AppSupervisor`,
/// on demand with an idle stop), its routes, its shared log and the leases of the `tako dev`
/// sessions using it. Requests never wait for this actor: routing goes through the
/// publisher's snapshot, names through `DevHostDirectory`.
public actor DevRuntime {
    struct App {
        var key: String
        var config: DevAppConfig
        var patterns: [RoutePattern]
        var supervisor: AppSupervisor
        var gate: ColdStartGate
        var log: DevLogWriter
        var followToken: Int
        var state = "starting"
        var pid: Int32?
        var lastError: String?
        /// Stopped on purpose to start again (config change, `restart`): not "idle".
        var restarting = false
    }

    public struct Settings: Sendable {
        /// An app that served nothing for this long is stopped; the next request starts it.
        public var idleTimeout: Duration = .seconds(30 * 60)
        public var leases = LeaseBook.Settings.standard
        public var supervisor = SupervisorSettings()
        public var inheritedEnvironment = ProcessInfo.processInfo.environment

        public init() {
            // A running dev app is probed rarely: each probe is a line in its log, and a crash
            // is noticed by its exit anyway.
            supervisor.health.interval = .seconds(30)
        }
    }

    let home: TakoHome
    let settings: Settings
    let directory: DevHostDirectory
    let publisher: RoutingPublisher
    private var apps: [String: App] = [:]
    private var leases: LeaseBook
    private let started = ContinuousClock.now
    private var daemonInfo: DevDaemonInfo?
    private nonisolated let shutdownSignal = AsyncStream<Void>.makeStream()

    init(home: TakoHome, settings: Settings, directory: DevHostDirectory, store: RoutingSnapshotStore) {
        self.home = home
        self.settings = settings
        self.directory = directory
        self.leases = LeaseBook(settings: settings.leases)
        let (changes, continuation) = AsyncStream<(String, [InstanceSnapshot])>.makeStream()
        self.publisher = RoutingPublisher(store: store) { app, instances in continuation.yield((app, instances)) }
        Task { [weak self] in
            for await (app, instances) in changes {
                await self?.instancesChanged(app: app, instances: instances)
            }
        }
    }

    /// Seconds since the daemon started: the lease book's clock.
    private var now: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: The daemon

    func setInfo(_ info: DevDaemonInfo) {
        daemonInfo = info
    }

    var hello: DevDaemonInfo {
        var info = daemonInfo ?? DevDaemonInfo(
            version: TakoVersion.current, pid: getpid(), httpsPort: 0, httpPort: 0, dnsPort: 0, caPath: "", hostsFile: "",
            hostsFileWritable: false)
        info.hostsFileWritable = directory.canWriteHostsFile
        return info
    }

    func shutdownRequested() {
        shutdownSignal.continuation.yield()
    }

    /// Returns when a client sent `shutdown` (or the waiting task is cancelled).
    nonisolated func waitForShutdownRequest() async {
        for await _ in shutdownSignal.stream { return }
    }

    // MARK: Sessions

    /// The owner's `register`: a new app starts at once; for one already registered by this
    /// project, changed variables or command restart it and changed routes re-route it.
    func register(_ config: DevAppConfig, key: String, session: String, truncateLog: Bool) async throws(UserError) -> DevAppInfo {
        let patterns = try Self.validate(config)
        if let existing = apps[config.name] {
            guard existing.key == key else {
                throw UserError(
                    "'\(config.name)' is already running in tako dev from \(existing.config.directory)",
                    hint: "stop that tako dev first (two projects cannot share one app name)")
            }
            if truncateLog {
                // A new owner starts the stream afresh, from where the app stands now.
                existing.log.truncate()
                write(config.name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "serving \(urls(config.name).joined(separator: " "))"))
                if existing.state == "running" {
                    write(config.name, DevLogRecord(
                        time: Date(), level: .info, scope: .tako, message: "running (pid \(existing.pid ?? 0))", state: .running, pid: existing.pid))
                }
            }
            try await update(existing, to: config, patterns: patterns)
        } else {
            try await add(config, key: key, patterns: patterns, truncateLog: truncateLog)
        }
        leases.join(config.name, session: session, at: now)
        return info(config.name)
    }

    func attach(key: String, session: String) throws(UserError) -> DevAppInfo {
        let app = try existing(key)
        leases.join(app.config.name, session: session, at: now)
        return info(app.config.name)
    }

    func heartbeat(key: String, session: String) throws(UserError) -> DevAppInfo {
        let app = try existing(key)
        leases.heartbeat(app.config.name, session: session, at: now)
        return info(app.config.name)
    }

    func leave(key: String, session: String) {
        guard let app = apps.values.first(where: { $0.key == key }) else { return }
        leases.leave(app.config.name, session: session, at: now)
    }

    func restart(key: String) async throws(UserError) {
        let app = try existing(key)
        write(app.config.name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "restarting"))
        await restartProcess(app.config.name)
    }

    func list() -> DevAppList {
        DevAppList(apps: apps.keys.sorted().map(info))
    }

    /// Once a second: apps whose sessions are all gone (after the grace period, or at once
    /// when idle) are removed.
    func tick() async {
        for name in leases.collect(at: now) {
            await remove(name)
        }
    }

    func stopAll() async {
        for name in apps.keys.sorted() { await remove(name) }
    }

    // MARK: Apps

    static func validate(_ config: DevAppConfig) throws(UserError) -> [RoutePattern] {
        if let problem = AppName.problem(with: config.name) {
            throw UserError("app name '\(config.name)' \(problem)", hint: "set name in tako.toml")
        }
        var patterns: [RoutePattern] = []
        for route in config.routes {
            let pattern: RoutePattern
            do { pattern = try RoutePattern(route) } catch {
                throw UserError("development route '\(route)': \(error.message)", hint: error.hint)
            }
            let host = pattern.hostName
            guard case .exact = pattern.host, host == "\(config.name).tako.local" || host.hasSuffix(".\(config.name).tako.local") else {
                throw UserError(
                    "development route '\(route)' is not \(config.name).tako.local or a subdomain of it",
                    hint: "tako dev serves only names under \(config.name).tako.local")
            }
            patterns.append(pattern)
        }
        guard !patterns.isEmpty else {
            throw UserError("'\(config.name)' has no development route", hint: "add \(config.name).tako.local to [envs.development] routes, or remove the list")
        }
        return patterns
    }

    private func spec(for config: DevAppConfig) throws(UserError) -> AppSpec {
        let start = config.command.map(StartCommand.explicit) ?? StartCommand.detectDev(in: config.directory, app: config.name)
        guard let start else {
            throw UserError(
                "no dev command for '\(config.name)' in \(config.directory)",
                hint: "set dev = \"...\" under [tako] in tako.toml (or a dev or start script in package.json)")
        }
        var vars = config.vars
        vars["NODE_ENV"] = TakoConfig.developmentEnvironment
        vars["BUN_ENV"] = TakoConfig.developmentEnvironment
        return AppSpec(
            name: config.name, version: "dev", env: TakoConfig.developmentEnvironment, releasePath: config.directory,
            start: start, instances: 0, idleTimeout: settings.idleTimeout, vars: vars)
    }

    private func add(_ config: DevAppConfig, key: String, patterns: [RoutePattern], truncateLog: Bool) async throws(UserError) {
        let spec = try spec(for: config)
        let log = try DevLogWriter(path: home.devLog(key: key).path, truncate: truncateLog)
        let supervisor: AppSupervisor
        do {
            supervisor = try AppSupervisor(
                name: config.name, logDirectory: home.root.appendingPathComponent("dev/apps/\(key)").path,
                dependencies: AppSupervisor.Dependencies(
                    observer: publisher, settings: settings.supervisor, inheritedEnvironment: settings.inheritedEnvironment))
        } catch {
            throw UserError("cannot prepare '\(config.name)': \(error)", hint: "check the permissions of \(home.root.path)")
        }
        let name = config.name
        let gate = ColdStartGate { [weak self] in
            Task { await self?.coldStart(name) }
        }
        do {
            try publisher.setRoutes(app: name, patterns: patterns, coldStart: gate)
        } catch {
            throw UserError(error.message, hint: "another dev app serves that route; change [envs.development] routes")
        }
        let token = supervisor.log.follow { line in log.append(DevLogWriter.record(fromSupervisorLine: line)) }
        await supervisor.resume(spec, deployedAt: Date())
        apps[name] = App(key: key, config: config, patterns: patterns, supervisor: supervisor, gate: gate, log: log, followToken: token)
        publishHosts()
        write(name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "serving \(urls(name).joined(separator: " "))"))
        Task { await self.coldStart(name) }
    }

    private func update(_ app: App, to config: DevAppConfig, patterns: [RoutePattern]) async throws(UserError) {
        let name = config.name
        if patterns != app.patterns {
            do {
                try publisher.setRoutes(app: name, patterns: patterns, coldStart: app.gate)
            } catch {
                throw UserError(error.message, hint: "another dev app serves that route; change [envs.development] routes")
            }
            apps[name]?.patterns = patterns
            apps[name]?.config.routes = config.routes
            publishHosts()
            write(name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "routes changed: now serving \(urls(name).joined(separator: " "))"))
        }
        var process = app.config
        process.routes = config.routes
        guard process != config else { return }
        let spec = try spec(for: config)
        apps[name]?.config = config
        write(name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "configuration changed; restarting"))
        await restartProcess(name, with: spec)
    }

    private func restartProcess(_ name: String, with newSpec: AppSpec? = nil) async {
        guard let app = apps[name], let spec = await newSpec.asyncOr({ await app.supervisor.spec }) else { return }
        apps[name]?.restarting = true
        await app.supervisor.stopAll()
        await app.supervisor.resume(spec, deployedAt: Date())
        apps[name]?.restarting = false
        await coldStart(name)
    }

    /// Starts the app's process (at registration, or for a request that found it stopped)
    /// and releases the requests held meanwhile.
    private func coldStart(_ name: String) async {
        guard let app = apps[name] else { return }
        let ready = await app.supervisor.coldStart()
        guard let current = apps[name] else { return }
        if ready {
            current.gate.ready()
            return
        }
        current.gate.failed()
        let error = await current.supervisor.status().lastError ?? "the app did not start"
        apps[name]?.lastError = error
        apps[name]?.state = "failed"
        write(name, DevLogRecord(time: Date(), level: .error, scope: .tako, message: error, state: .failed))
    }

    private func instancesChanged(app name: String, instances: [InstanceSnapshot]) {
        guard let app = apps[name] else { return }
        let healthy = instances.first { $0.state == .healthy }
        let starting = instances.first { $0.state == .starting }
        let (state, pid): (String, Int32?) =
            if let healthy { ("running", healthy.pid) }
            else if let starting { ("starting", starting.pid) }
            else if instances.isEmpty { ("idle", nil) }
            else { (app.state, app.pid) }
        leases.setIdle(name, instances.isEmpty && !app.restarting)
        guard state != app.state || pid != app.pid else { return }
        guard !(state == "idle" && app.restarting) else {
            apps[name]?.state = "starting"
            apps[name]?.pid = nil
            return
        }
        apps[name]?.state = state
        apps[name]?.pid = pid
        if state == "running" { apps[name]?.lastError = nil }
        let record: DevLogRecord =
            switch state {
            case "running": DevLogRecord(time: Date(), level: .info, scope: .tako, message: "running (pid \(pid ?? 0))", state: .running, pid: pid)
            case "starting": DevLogRecord(time: Date(), level: .info, scope: .tako, message: "starting (pid \(pid ?? 0))", state: .starting, pid: pid)
            default:
                DevLogRecord(
                    time: Date(), level: .info, scope: .tako,
                    message: "stopped; the next request starts it again", state: .stopped)
            }
        write(name, record)
    }

    private func remove(_ name: String) async {
        guard let app = apps[name] else { return }
        write(name, DevLogRecord(time: Date(), level: .info, scope: .tako, message: "no tako dev session left; removed", state: .stopped))
        apps[name] = nil
        publisher.removeApp(name)
        publishHosts()
        await app.supervisor.stopAll()
        app.supervisor.log.unfollow(app.followToken)
    }

    private func publishHosts() {
        directory.update(apps.mapValues { Array(Set($0.patterns.map(\.hostName))).sorted() })
    }

    private func existing(_ key: String) throws(UserError) -> App {
        guard let app = apps.values.first(where: { $0.key == key }) else {
            throw UserError("this project is not registered with tako-dev-server", hint: "run tako dev in the project")
        }
        return app
    }

    private func urls(_ name: String) -> [String] {
        guard let app = apps[name] else { return [] }
        var seen: Set<String> = []
        return app.patterns.map(\.hostName).filter { seen.insert($0).inserted }.map(directory.url(for:))
    }

    private func info(_ name: String) -> DevAppInfo {
        let app = apps[name]!
        return DevAppInfo(
            key: app.key, name: name, directory: app.config.directory, urls: urls(name), state: app.state, pid: app.pid,
            sessions: leases.liveSessions(name, at: now), logPath: app.log.path, lastError: app.lastError)
    }

    private func write(_ name: String, _ record: DevLogRecord) {
        apps[name]?.log.append(record)
    }
}

extension Optional {
    fileprivate func asyncOr(_ fallback: () async -> Wrapped?) async -> Wrapped? {
        if let value = self { return value }
        return await fallback()
    }
}
