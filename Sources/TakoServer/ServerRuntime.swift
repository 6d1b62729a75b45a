import Foundation
import TakoACME
import TakoCore
import TakoHosting
import TakoProxy
import TakoSupervisor

/// The host daemon's state and the handling of every management command: the apps, their
/// supervisors, routes and secrets, and the upgrade lock.
///
/// Commands arrive from the management socket; traffic never passes through here (the proxy
/// reads the published routing snapshot), so a slow command never blocks a request.
public actor ServerRuntime {
    struct App {
        var supervisor: AppSupervisor
        var request: DeployRequest
        var secrets: [String: String] = [:]
        var gate: ColdStartGate?
    }

    public let config: ServerConfig
    /// The ports the listeners actually bound (port 0 in the config picks one).
    public private(set) var httpPort: Int
    public private(set) var httpsPort: Int
    /// The HTTPS listener's certificates (`{data_dir}/certs/{host}/`).
    private let certificates: CertificateStore
    /// The internal issuer's CA (`[tls] issuer = "internal"`), made on first use.
    private var localCA: LocalCA?
    /// Certificates from ACME (`[tls] issuer = "acme"`).
    private let acme: CertificateManager?
    private let publisher: RoutingPublisher
    private let supervisorDependencies: @Sendable (any AppSupervisorObserver) -> AppSupervisor.Dependencies
    private var apps: [String: App] = [:]
    private var upgradeOwner: String?
    /// Starts a successor and hands over (`restart_server`), or with `hard` schedules a stop
    /// and a fresh start of this process; set by the daemon, with the binary it restarts from.
    private var restartHandler: (@Sendable (_ hard: Bool) async throws -> Int32)?
    private var executable: String?
    /// When this process started (`hello.started_at`).
    private let startedAt = Date().timeIntervalSince1970
    /// A graceful restart is under way: state must not change until the successor, which
    /// restored it already, has taken over.
    private var restarting = false
    /// Apps with a deploy running; a second deploy of the same app is refused at once.
    private var deploying: Set<String> = []
    /// The JSON `/_tako/status` serves, rebuilt after every change so the proxy answers
    /// without waiting for this actor.
    let statusPage: StatusPage

    private let state: StateStore

    init(
        config: ServerConfig, httpPort: Int, httpsPort: Int, store: RoutingSnapshotStore, statusPage: StatusPage,
        state: StateStore, certificates: CertificateStore, acme: CertificateManager?, dependencies: @escaping @Sendable (any AppSupervisorObserver) -> AppSupervisor.Dependencies
    ) {
        self.config = config
        self.httpPort = httpPort
        self.httpsPort = httpsPort
        self.certificates = certificates
        self.acme = acme
        self.publisher = RoutingPublisher(store: store) { app, instances in
            // Recorded so a server that was killed can stop what it left running (see restore).
            try? state.saveProcesses(
                app: app,
                instances.compactMap { instance in
                    instance.pid.map {
                        StateStore.StoredProcess(app: app, instance: instance.id, pid: $0, releasePath: instance.releasePath)
                    }
                })
        }
        self.statusPage = statusPage
        self.state = state
        self.supervisorDependencies = dependencies
    }

    // MARK: Restore

    /// After a restart or a crash: stops whatever the previous server process left running,
    /// then brings back every app with its routes, secrets and instances, without a deploy.
    ///
    /// `predecessor`: the server process handing over to this one; its processes keep
    /// running until it has drained.
    func restore(predecessor: Int32? = nil) async throws {
        stopLeftoverProcesses(keeping: predecessor)
        upgradeOwner = try state.upgradeOwner()
        for stored in try state.apps() {
            let request = stored.request
            do {
                let (spec, patterns) = try makeSpec(request, secrets: stored.secrets, checkConflicts: false)
                let supervisor = try AppSupervisor(
                    name: request.app, logDirectory: appDirectory(request.app) + "/shared/logs",
                    dependencies: supervisorDependencies(publisher))
                var entry = App(supervisor: supervisor, request: request, secrets: stored.secrets)
                entry.gate = request.instances == 0 ? makeGate(supervisor) : nil
                apps[request.app] = entry
                try publisher.setRoutes(app: request.app, patterns: patterns, coldStart: entry.gate)
                await supervisor.resume(spec, deployedAt: stored.deployedAt, stopped: stored.stopped)
            } catch let error as any UserFacingError {
                FileHandle.standardError.write(Data("tako-server: cannot restore '\(request.app)': \(error.message)\n".utf8))
            }
        }
        // Certificates resume too: missing ones are requested, renewals scheduled.
        let hosts = apps.values.flatMap { $0.request.routes.compactMap { try? RoutePattern($0).hostName } }
        await acme?.ensure(hosts)
        refreshStatusPage()
    }

    /// Process groups recorded by a previous server process that still run one of its
    /// releases: asked to stop, killed after the drain timeout.
    private func stopLeftoverProcesses(keeping predecessor: Int32?) {
        let leftovers = ((try? state.processes(excludingServer: predecessor)) ?? []).filter { process in
            // Only a process still running in the release it was started in: a recycled pid
            // belongs to someone else.
            guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/cwd") else { return false }
            return cwd == process.releasePath || cwd.hasPrefix(process.releasePath + "/")
        }
        for process in leftovers { kill(-process.pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(TimeInterval(config.drainTimeout))
        while leftovers.contains(where: { kill($0.pid, 0) == 0 }), Date() < deadline {
            usleep(20_000)
        }
        for process in leftovers where kill(process.pid, 0) == 0 { kill(-process.pid, SIGKILL) }
        try? state.clearProcesses(excludingServer: predecessor)
    }

    // MARK: Dispatch

    /// Answers one request frame with one response frame. Never throws: every failure is an
    /// error response.
    public func respond(to frame: Data) async -> Data {
        let request: ManagementRequest
        do {
            request = try ManagementRequest.decode(frame: frame)
        } catch {
            return Self.errorFrame(error.message, hint: error.hint)
        }
        if !request.isCurrentVersion {
            return Self.errorFrame(
                "protocol version mismatch: the client speaks version \(request.protocolVersion), tako-server \(TakoVersion.current) speaks \(ManagementProtocol.version)",
                hint: "upgrade the older of the CLI and tako-server")
        }
        // The upgrade first: during an upgrade's handoff its lock is the better explanation.
        if request.command.isMutating, let owner = upgradeOwner {
            return Self.errorFrame(
                "tako-server is being upgraded (lock held by '\(owner)'); '\(request.command.name)' is refused until it finishes",
                hint: "wait for the upgrade to finish; if it was interrupted, run it again from the same machine, or release the lock on the host with: tako-server ctl exit-upgrading '\(owner)'")
        }
        if request.command.isMutating, restarting {
            return Self.errorFrame(
                "tako-server is restarting gracefully; '\(request.command.name)' is refused until the new server has taken over",
                hint: "try again in a few seconds")
        }
        do {
            let response = try await handle(request.command)
            refreshStatusPage()
            return response
        } catch let error as any UserFacingError {
            refreshStatusPage()
            return Self.errorFrame(error.message, hint: error.hint)
        } catch {
            return Self.errorFrame("internal error: \(error)")
        }
    }

    private func handle(_ command: ManagementCommand) async throws -> Data {
        switch command {
        case .hello:
            return try Self.okFrame(HelloInfo(
                capabilities: ManagementCommand.allNames + [
                    "on_demand_cold_start", "idle_scale_to_zero", "release_upload", "graceful_restart", "hard_restart",
                    "binary_upgrade",
                ],
                pid: getpid(), startedAt: startedAt))
        case .serverInfo:
            return try Self.okFrame(serverInfo())
        case .deploy(let request):
            return try Self.okFrame(try await deploy(request))
        case .routes:
            let entries = apps.keys.sorted().map { RouteEntry(app: $0, routes: apps[$0]?.request.routes ?? []) }
            return try Self.okFrame(RouteList(routes: entries))
        case .status(let app):
            if let app {
                let entry = try existing(app)
                return try Self.okFrame(StatusReport(apps: [await entry.supervisor.status()], certificates: await acme?.status()))
            }
            return try Self.okFrame(StatusReport(apps: await allStatuses(), certificates: await acme?.status()))
        case .logs(let app, _, let lines):
            let entry = try existing(app)
            return try Self.okFrame(LogLines(lines: Self.fitting(entry.supervisor.log.lastLines(min(max(lines, 0), 10_000)))))
        case .stop(let app):
            let entry = try existing(app)
            try state.setStopped(app: app, true)
            await entry.supervisor.stopAll()
            return try Self.okFrame(EmptyPayload())
        case .delete(let app):
            return try Self.okFrame(try await delete(app))
        case .updateSecrets(let app, let secrets):
            var entry = try existing(app)
            entry.secrets = secrets
            apps[app] = entry
            try state.saveSecrets(app: app, secrets)
            try await entry.supervisor.restart(secrets: secrets)
            try state.setStopped(app: app, false)
            return try Self.okFrame(EmptyPayload())
        case .releases(let app):
            _ = try existing(app)
            return try Self.okFrame(releaseList(app))
        case .rollback(let app, let version):
            return try Self.okFrame(try await rollback(app, to: version))
        case .reload(let app):
            try await existing(app).supervisor.restart()
            try state.setStopped(app: app, false)
            return try Self.okFrame(EmptyPayload())
        case .restartServer(let hard):
            guard let restartHandler else {
                throw UserError("this tako-server cannot restart itself", hint: "restart it with its service manager")
            }
            let pid = try await restartHandler(hard)
            return try Self.okFrame(ServerRestart(pid: pid, previousPid: getpid()))
        case .enterUpgrading(let owner):
            if let current = upgradeOwner, current != owner {
                throw UserError("an upgrade is already in progress (lock held by '\(current)')", hint: "wait for it to finish")
            }
            try state.setUpgradeOwner(owner)
            upgradeOwner = owner
            return try Self.okFrame(EmptyPayload())
        case .exitUpgrading(let owner):
            guard upgradeOwner == nil || upgradeOwner == owner else {
                throw UserError("the upgrade lock is held by '\(upgradeOwner ?? "")', not '\(owner)'", hint: "release it as its owner")
            }
            try state.setUpgradeOwner(nil)
            upgradeOwner = nil
            return try Self.okFrame(EmptyPayload())
        }
    }

    private func existing(_ app: String) throws(UserError) -> App {
        guard let entry = apps[app] else {
            throw UserError("no app named '\(app)' on this server", hint: "see the deployed apps with the status command")
        }
        return entry
    }

    func serverInfo() -> ServerInfo {
        ServerInfo(
            mode: upgradeOwner == nil ? .normal : .upgrading, socket: config.socket, dataDir: config.dataDir,
            httpPort: httpPort, httpsPort: httpsPort, serverVersion: TakoVersion.current,
            tlsIssuer: config.tlsIssuer.rawValue, acmeStaging: config.acmeStaging, acmeEmail: config.acmeEmail,
            acmeDirectoryURL: config.acmeDirectoryURL, executable: executable)
    }

    // MARK: Deploy

    private func deploy(_ incoming: DeployRequest) async throws -> AppStatus {
        // Secrets are taken out at once: nothing below stores or keeps the request with them.
        let newSecrets = incoming.secrets
        let request = incoming.withoutSecrets
        guard !deploying.contains(request.app) else {
            throw UserError("a deploy of '\(request.app)' is already running", hint: "wait for it to finish, then try again")
        }
        let (template, patterns) = try makeSpec(request, secrets: newSecrets ?? apps[request.app]?.secrets ?? [:], checkConflicts: true)
        deploying.insert(request.app)
        defer { deploying.remove(request.app) }
        let entry = try existingOrNew(request)
        var spec = template
        spec.secrets = newSecrets ?? entry.secrets
        do {
            try await entry.supervisor.deploy(spec)
        } catch {
            try? state.recordFailedDeploy(app: request.app, version: request.version, message: error.message)
            if apps[request.app]?.request.version.isEmpty == true {
                // A first deploy that failed leaves nothing behind but its log.
                apps[request.app] = nil
            }
            throw error
        }
        var deployed = entry
        deployed.request = request
        if let newSecrets { deployed.secrets = newSecrets }
        deployed.gate = request.instances == 0 ? (entry.gate ?? makeGate(entry.supervisor)) : nil
        apps[request.app] = deployed
        try publisher.setRoutes(app: request.app, patterns: patterns, coldStart: deployed.gate)
        try state.saveDeploy(request, at: Date())
        if newSecrets != nil || !deployed.secrets.isEmpty { try state.saveSecrets(app: request.app, deployed.secrets) }
        pointCurrent(app: request.app, at: request.releasePath)
        if config.tlsIssuer == .internal { issueInternalCertificates(for: patterns) }
        await acme?.ensure(patterns.map(\.hostName))
        // A certificate placed in the store (a wildcard, say) is picked up with the deploy.
        certificates.loadDirectory(config.dataDir + "/certs")
        var status = await entry.supervisor.status()
        let notices = certificateNotices(for: patterns)
        status.notices = notices.isEmpty ? nil : notices
        return status
    }

    /// The releases kept in `{app}/releases/`, newest first, the one `current` points at marked.
    private func releaseList(_ app: String) -> ReleaseList {
        let directory = appDirectory(app) + "/releases"
        let current = (try? FileManager.default.destinationOfSymbolicLink(atPath: appDirectory(app) + "/current"))
            .map { URL(fileURLWithPath: $0).lastPathComponent }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }
        let releases = names.map { name in
            let created = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.modificationDate] as? Date
            return ReleaseList.Release(version: name, createdAt: created, current: name == current)
        }
        return ReleaseList(releases: releases.sorted { ($0.createdAt ?? .distantPast) > ($1.createdAt ?? .distantPast) })
    }

    /// A deploy of a kept release: `version`, or the newest one older than what runs.
    private func rollback(_ app: String, to version: String?) async throws -> AppStatus {
        let entry = try existing(app)
        let releases = releaseList(app).releases
        let running = entry.request.version
        let target: String
        if let version {
            guard releases.contains(where: { $0.version == version }) else {
                throw UserError("'\(app)' has no kept release '\(version)' on this host", hint: "tako releases lists the kept ones")
            }
            target = version
        } else {
            let runningCreated = releases.first { $0.version == running }?.createdAt ?? .distantFuture
            guard let previous = releases.first(where: { $0.version != running && ($0.createdAt ?? .distantPast) < runningCreated }) else {
                throw UserError("'\(app)' has no release older than \(running) to roll back to", hint: "tako releases lists the kept ones")
            }
            target = previous.version
        }
        guard target != running else { throw UserError("'\(app)' already runs \(target)", hint: "name another release") }
        var request = entry.request
        request.version = target
        request.releasePath = appDirectory(app) + "/releases/" + target
        return try await deploy(request)
    }

    /// What the deployer must know about the routes' certificates: hosts that will stay on
    /// plain HTTP, and wildcards (or any host, with issuer "none") that need a certificate
    /// placed by hand. Hosts the issuer is obtaining a certificate for are not mentioned
    /// (`status` shows their progress).
    private func certificateNotices(for patterns: [RoutePattern]) -> [String] {
        let installed = Set(certificates.hosts)
        let place = { (host: String) in
            "place its fullchain.pem and privkey.pem in \(self.config.dataDir)/certs/\(host)/ (picked up at the next deploy or restart); until then it is served over plain HTTP"
        }
        var notices: [String] = []
        for host in Set(patterns.map(\.hostName)).sorted() where !installed.contains(host) {
            switch (config.tlsIssuer, CertificateEligibility.acmeRefusal(for: host)) {
            case (_, .ipAddress):
                notices.append("\(host) is served over plain HTTP only: clients send no server name for an IP address, so no certificate can be chosen")
            case (.acme, .wildcard):
                notices.append("\(host) needs a certificate placed by hand (ACME's HTTP-01 cannot validate wildcard names): \(place(host))")
            case (.acme, .localName):
                notices.append("\(host) gets no ACME certificate (public CAs do not issue for local names) and is served over plain HTTP; use issuer \"internal\" for private names")
            case (.none, _):
                notices.append("\(host) has no certificate (issuer \"none\"): \(place(host))")
            case (.acme, nil), (.internal, _):
                break
            }
        }
        return notices
    }

    /// `[tls] issuer = "internal"`: every route host (wildcards too) gets a certificate from
    /// the host's own CA, unless it has one with more than a third of its life left. A
    /// failure is logged and never fails the deploy: the host stays on HTTP meanwhile.
    private func issueInternalCertificates(for patterns: [RoutePattern]) {
        let files = CertificateFiles(directory: config.dataDir + "/certs")
        do {
            let ca = try localCA ?? LocalCA.loadOrCreate(directory: config.dataDir + "/ca", name: "Tako Internal CA")
            localCA = ca
            let hosts = Set(patterns.map(\.hostName)).filter(CertificateEligibility.canServeHTTPS)
            for host in hosts.sorted() where !files.isFresh(host) {
                try files.write(try ca.issue(for: host), for: host)
            }
        } catch {
            FileHandle.standardError.write(Data("tako-server: internal certificates not issued: \((error as? any UserFacingError)?.message ?? "\(error)")\n".utf8))
        }
    }

    private func makeGate(_ supervisor: AppSupervisor) -> ColdStartGate {
        ColdStartGate { [weak self] in
            Task { await self?.coldStart(supervisor) }
        }
    }

    /// Checks a deploy request and turns it into the spec the supervisor runs.
    private func makeSpec(_ request: DeployRequest, secrets: [String: String], checkConflicts: Bool) throws -> (AppSpec, [RoutePattern]) {
        if let problem = AppName.problem(with: request.app) {
            throw UserError("app name '\(request.app)' \(problem)", hint: "use lower-case letters, digits and '-'")
        }
        // A label in status, logs and TAKO_BUILD, and a directory name for shipped releases.
        guard ReleaseVersion.isValid(request.version) else {
            throw UserError("'\(request.version.prefix(80))' is not a release version", hint: "versions are letters, digits and '_'")
        }
        guard request.instances >= 0, request.instances <= 64 else {
            throw UserError("instances is \(request.instances); it must be between 0 and 64", hint: "set instances in tako.toml")
        }
        guard request.idleTimeoutSecs >= 0 else {
            throw UserError("idle_timeout_secs is negative", hint: "set idle_timeout in tako.toml to 0 or more seconds")
        }
        var patterns: [RoutePattern] = []
        for route in request.routes {
            do {
                patterns.append(try RoutePattern(route))
            } catch {
                throw UserError("route '\(route)': \(error.message)", hint: error.hint)
            }
        }
        guard !patterns.isEmpty else { throw UserError("the deploy has no routes", hint: "add a route in tako.toml") }
        let conflicts = checkConflicts ? publisher.table.conflicts(adding: request.app, routes: patterns) : []
        if let conflict = conflicts.first {
            throw UserError(
                "route '\(conflict.pattern)' is already served by \(conflict.apps.filter { $0 != request.app }.map { "'\($0)'" }.joined(separator: ", "))",
                hint: "give each app its own routes, or delete the other app first")
        }
        var isDirectory: ObjCBool = false
        guard request.releasePath.hasPrefix("/"),
            FileManager.default.fileExists(atPath: request.releasePath, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw UserError("the release directory '\(request.releasePath)' does not exist on this server", hint: "upload the release first")
        }
        let start: StartCommand
        if let command = request.start, !command.trimmingCharacters(in: .whitespaces).isEmpty {
            start = StartCommand.detect(in: request.releasePath, app: request.app).map { StartCommand(command: command, runtime: $0.runtime) }
                ?? StartCommand(command: command, runtime: .custom)
        } else if let detected = StartCommand.detect(in: request.releasePath, app: request.app) {
            start = detected
        } else {
            throw UserError(
                "cannot tell how to start '\(request.app)' from its release",
                hint: "set start in tako.toml (e.g. start = \"python3 main.py\"), or ship a package.json, deno.json, main.py or an executable named '\(request.app)'")
        }

        let spec = AppSpec(
            name: request.app, version: request.version, env: request.env, releasePath: request.releasePath,
            start: start, healthPath: request.healthCheck, instances: request.instances,
            idleTimeout: .seconds(request.idleTimeoutSecs), vars: request.vars, secrets: secrets)
        return (spec, patterns)
    }

    private func existingOrNew(_ request: DeployRequest) throws -> App {
        if let entry = apps[request.app] { return entry }
        let supervisor = try AppSupervisor(
            name: request.app, logDirectory: appDirectory(request.app) + "/shared/logs",
            dependencies: supervisorDependencies(publisher))
        var placeholder = request
        placeholder.version = ""
        let entry = App(supervisor: supervisor, request: placeholder)
        apps[request.app] = entry
        return entry
    }

    private func coldStart(_ supervisor: AppSupervisor) async {
        let ready = await supervisor.coldStart()
        let gate = apps[supervisor.name]?.gate
        if ready { gate?.ready() } else { gate?.failed() }
        refreshStatusPage()
    }

    private func delete(_ app: String) async throws -> EmptyPayload {
        let entry = try existing(app)
        try state.deleteApp(app)
        await entry.supervisor.stopAll()
        publisher.removeApp(app)
        apps[app] = nil
        try? FileManager.default.removeItem(atPath: appDirectory(app))
        return EmptyPayload()
    }

    func appDirectory(_ app: String) -> String {
        config.dataDir + "/apps/" + app
    }

    /// `apps/{app}/current` points at the release now serving; replaced atomically.
    private func pointCurrent(app: String, at release: String) {
        let link = appDirectory(app) + "/current"
        let temporary = link + ".new"
        unlink(temporary)
        guard symlink(release, temporary) == 0 else { return }
        rename(temporary, link)
    }

    // MARK: Logs

    /// For `logs` with `follow`: the app's log, to subscribe to after the first answer.
    public func logToFollow(_ frame: Data) -> AppLog? {
        guard let request = try? ManagementRequest.decode(frame: frame), request.isCurrentVersion, case .logs(let app, true, _) = request.command else { return nil }
        return apps[app]?.supervisor.log
    }

    // MARK: Status

    func allStatuses() async -> [AppStatus] {
        var statuses: [AppStatus] = []
        for name in apps.keys.sorted() {
            if let supervisor = apps[name]?.supervisor { statuses.append(await supervisor.status()) }
        }
        return statuses
    }

    /// Rebuilds the `/_tako/status` document.
    func refreshStatusPage() {
        let supervisors = apps.values.map(\.supervisor)
        let page = statusPage
        Task {
            var statuses: [AppStatus] = []
            var healthy = true
            for supervisor in supervisors {
                statuses.append(await supervisor.status())
                if await !supervisor.isHealthy { healthy = false }
            }
            page.update(healthy: healthy, apps: statuses.sorted { $0.name < $1.name })
        }
    }

    /// The apps that should be serving but have no healthy instance set yet, after waiting up
    /// to `timeout` for them (a successor reports ready only when its apps can take traffic).
    func waitUntilServing(timeout: Duration) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            var waiting: [String] = []
            for (name, app) in apps.sorted(by: { $0.key < $1.key }) where await !app.supervisor.isServing {
                waiting.append(name)
            }
            if waiting.isEmpty || ContinuousClock.now >= deadline { return waiting }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func setRestartHandler(executable: String, _ handler: @escaping @Sendable (_ hard: Bool) async throws -> Int32) {
        self.executable = executable
        restartHandler = handler
    }

    func setRestarting(_ value: Bool) {
        restarting = value
    }

    /// Stops every app's instances (the server is shutting down).
    func stopAll() async {
        for app in apps.values { await app.supervisor.stopAll() }
    }

    // MARK: Frames

    /// The newest lines that fit in one response frame.
    static func fitting(_ lines: [String]) -> [String] {
        var budget = ManagementProtocol.maxFrameBytes - 4096
        var kept: [String] = []
        for line in lines.reversed() {
            budget -= line.utf8.count + 8
            if budget < 0 { break }
            kept.append(line)
        }
        return kept.reversed()
    }

    static func okFrame(_ payload: some Codable & Sendable) throws -> Data {
        try ManagementFrame.encode(ManagementResponse.ok(payload))
    }

    static func errorFrame(_ message: String, hint: String? = nil) -> Data {
        ManagementFrame.error(message, hint: hint)
    }
}

/// The answer to `logs`: `{"lines": [...]}`.
public struct LogLines: Codable, Hashable, Sendable {
    public var lines: [String]
}
extension ServerRuntime: FrameResponder {}
