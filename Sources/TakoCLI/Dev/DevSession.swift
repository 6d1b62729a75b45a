import Foundation
import Synchronization
import TakoCore

/// One running `tako dev`: registers (owner) or attaches, then until Ctrl-C / `q` renews its
/// lease, follows the shared log, and (owner) applies edits to tako.toml.
final class DevSession {
    private let context: CommandContext
    private let client: DevClient
    private var daemon: DevDaemonInfo
    private var project: TakoProject
    private var config: DevAppConfig
    private let key: String
    private let owner: Bool
    private let id = UUID().uuidString.lowercased()
    private var info: DevAppInfo?
    private var tail: DevLogTail
    private var folder = RepeatFolder(limit: 2000)
    private let dashboard: DevDashboard?
    private var stats = ProcessStats()
    private var lastStats = ProcessStats.Sample()
    private var notice: String?
    private var configStamp: ConfigStamp?

    private var terminal: Terminal { context.terminal }

    init(
        context: CommandContext, client: DevClient, daemon: DevDaemonInfo, project: TakoProject, config: DevAppConfig,
        key: String, owner: Bool, dashboard: Bool
    ) {
        self.context = context
        self.client = client
        self.daemon = daemon
        self.project = project
        self.config = config
        self.key = key
        self.owner = owner
        self.dashboard = dashboard ? DevDashboard() : nil
        tail = DevLogTail(path: context.home.devLog(key: key).path)
    }

    func run() async throws {
        if owner {
            trustStep()
            info = try client.register(config, key: key, session: id, truncateLog: true)
            hostsStep()
        } else {
            info = try await attach()
            terminal.say("Attached to \(config.name): another tako dev in this project owns it.")
        }
        configStamp = ConfigStamp(project.configFile)
        if let info {
            for url in info.urls { terminal.say(terminal.paint("➜", .green) + " " + url) }
        }
        let (stop, sources) = Self.stopSignals()
        defer { sources.forEach { $0.cancel() } }
        dashboard?.start()
        defer { dashboard?.stop() }
        let clock = ContinuousClock()
        var nextBeat = clock.now
        var nextSecond = clock.now
        var quit = false
        while !quit && !stop.isSet {
            let records = tail.read()
            if records.restarted { folder.clear() }
            for record in records.records {
                if dashboard != nil {
                    folder.add(record)
                } else {
                    FileHandle.standardOutput.write(Data((record.rendered() + "\n").utf8))
                }
            }
            if let dashboard {
                for key in dashboard.keys() {
                    switch key {
                    case .quit: quit = true
                    case .restart: restartApp()
                    case .clear: folder.clear()
                    default: dashboard.scroll(key, total: folder.entries.count)
                    }
                }
            }
            if clock.now >= nextSecond {
                nextSecond = clock.now + .seconds(1)
                if owner { applyConfigEdits() }
                lastStats = stats.sample(group: info?.state == "running" || info?.state == "starting" ? info?.pid : nil)
            }
            if clock.now >= nextBeat {
                nextBeat = clock.now + .seconds(2)
                if try await !beat() { break }
            }
            if let dashboard, let info {
                dashboard.render(
                    DevDashboard.Header(
                        app: info.name, state: info.state, pid: info.pid, urls: info.urls, stats: lastStats, sessions: info.sessions,
                        attached: !owner, notice: notice),
                    log: folder.entries)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        dashboard?.stop()
        client.leave(key: key, session: id)
        terminal.say("tako dev stopped; \(config.name) stays up for a short while in case you come back.")
    }

    // MARK: Lease

    /// Renews the lease. A daemon that forgot the app (it restarted) gets it again from the
    /// owner; an attached session whose app is gone ends. False ends the session.
    private func beat() async throws -> Bool {
        do {
            info = try client.heartbeat(key: key, session: id)
            return true
        } catch {
            guard owner else {
                terminal.say("\(config.name) is no longer running in tako dev (\(error.message)).")
                return false
            }
            daemon = try await DevDaemonLauncher.ensureRunning(home: context.home, environment: context.environment, terminal: terminal)
            info = try client.register(config, key: key, session: id, truncateLog: false)
            return true
        }
    }

    /// The owner may still be registering: a few tries before giving up.
    private func attach() async throws -> DevAppInfo {
        var lastError: UserError?
        for _ in 0..<50 {
            do { return try client.attach(key: key, session: id) } catch { lastError = error }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError(
            "Another tako dev owns this project, but \(config.name) is not registered: \(lastError?.message ?? "no answer").",
            hint: "Stop the other tako dev (or remove \(ProjectLock.path(home: context.home, key: key)) if none runs).")
    }

    private func restartApp() {
        do {
            try client.restart(key: key)
        } catch {
            notice = error.message
        }
    }

    // MARK: tako.toml

    /// Applies an edited tako.toml: variables or the dev command restart the app, routes re-route it.
    private func applyConfigEdits() {
        let stamp = ConfigStamp(project.configFile)
        guard stamp != configStamp else { return }
        configStamp = stamp
        let updated: TakoProject
        let newConfig: DevAppConfig
        do {
            updated = try TakoProject.load(directory: project.directory)
            newConfig = try DevCommand.appConfig(updated)
        } catch let error as any UserFacingError {
            say(.warn, "tako.toml: \(error.message) — keeping the running configuration")
            return
        } catch {
            return
        }
        guard newConfig.name == config.name else {
            say(.warn, "tako.toml renames the app to '\(newConfig.name)'; restart tako dev to use the new name")
            return
        }
        guard newConfig != config else { return }
        do {
            info = try client.register(newConfig, key: key, session: id, truncateLog: false)
            project = updated
            config = newConfig
        } catch {
            say(.error, "tako.toml: \(error.message)")
        }
    }

    /// A line of our own, shown with the log (not written to the shared log).
    private func say(_ level: DevLogRecord.Level, _ message: String) {
        let record = DevLogRecord(time: Date(), level: level, scope: .tako, message: message)
        if dashboard != nil { folder.add(record) } else { FileHandle.standardOutput.write(Data((record.rendered() + "\n").utf8)) }
    }

    // MARK: First run

    /// Trust for the local CA: explained and installed on a terminal, a hint otherwise.
    private func trustStep() {
        let trust = DevTrust(caPath: daemon.caPath, environment: context.environment)
        let systemMissing = trust.handlesSystem && !trust.systemTrusted
        let databases = trust.certutil == nil ? [] : trust.nssDatabases.filter { !trust.nssTrusted($0) }
        guard systemMissing || !databases.isEmpty || trust.certutil == nil else { return }
        guard terminal.isInteractive else {
            terminal.warning(
                "Browsers do not trust the Tako Dev CA yet (\(daemon.caPath)).",
                hint: "Run tako dev on a terminal once to install it; tako doctor shows what is missing.")
            return
        }
        terminal.say("tako dev serves HTTPS with certificates from its own local CA: \(daemon.caPath)")
        terminal.say("To make browsers and tools trust it, tako will:")
        #if os(Linux)
        if systemMissing { terminal.say("  • add it to the system's trusted certificates (update-ca-certificates; asks for sudo)") }
        #else
        if systemMissing { terminal.say("  • add it to the System keychain as trusted (asks for your password)") }
        #endif
        for database in databases { terminal.say("  • add it to the browser certificate database \(database) (certutil)") }
        if trust.certutil == nil { terminal.say("  • (browsers using NSS need certutil: sudo apt-get install libnss3-tools)") }
        guard terminal.confirm("Trust the Tako Dev CA?", defaultAnswer: true) else {
            terminal.say("Not trusted: browsers will warn about the certificate.")
            return
        }
        do {
            if systemMissing { try trust.installSystem(terminal: terminal) }
            for database in databases { try trust.installNSS(database) }
            terminal.success("The Tako Dev CA is trusted. Restart open browsers to pick it up.")
        } catch let error as any UserFacingError {
            terminal.warning(error.message, hint: error.hint)
        } catch {}
        terminal.say("Node apps that call these URLs: NODE_EXTRA_CA_CERTS=\(daemon.caPath)")
    }

    /// Linux: the hosts file lists every dev name. The daemon writes it when it can; for
    /// `/etc/hosts` tako asks and uses sudo. macOS: `/etc/resolver/tako.local` points at the
    /// daemon's DNS responder.
    private func hostsStep() {
        #if os(Linux)
        guard !daemon.hostsFileWritable, let apps = try? client.list().apps else { return }
        let hosts = Set(apps.flatMap(\.urls).compactMap { URL(string: $0)?.host })
        let missing = HostsFileSync.missing(hosts, in: daemon.hostsFile)
        guard !missing.isEmpty else { return }
        guard terminal.isInteractive else {
            terminal.warning(
                "\(missing.sorted().joined(separator: ", ")) do not resolve yet: \(daemon.hostsFile) lacks them.",
                hint: "Run tako dev on a terminal once to add them, or add '127.0.0.1 \(missing.sorted().joined(separator: " "))' yourself.")
            return
        }
        guard terminal.confirm("Add \(missing.sorted().joined(separator: ", ")) to \(daemon.hostsFile) so browsers find them? (sudo)", defaultAnswer: true) else {
            return
        }
        do {
            try HostsFileSync.write(hosts, to: daemon.hostsFile, terminal: terminal)
        } catch let error as any UserFacingError {
            terminal.warning(error.message, hint: error.hint)
        } catch {}
        #elseif os(macOS)
        guard !ResolverFile.isCurrent(dnsPort: daemon.dnsPort), terminal.isInteractive,
            terminal.confirm("Create \(ResolverFile.path) so *.tako.local names resolve? (sudo)", defaultAnswer: true)
        else { return }
        do {
            try ResolverFile.install(dnsPort: daemon.dnsPort, terminal: terminal)
        } catch {
            terminal.warning("Could not write \(ResolverFile.path).", hint: "Create it with 'nameserver 127.0.0.1' and 'port \(daemon.dnsPort)'.")
        }
        #endif
    }

    // MARK: Signals

    /// Ctrl-C, SIGTERM and SIGHUP end the session cleanly (lease given back, terminal restored).
    private static func stopSignals() -> (StopFlag, [any DispatchSourceSignal]) {
        let flag = StopFlag()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.set() }
            source.resume()
            sources.append(source)
        }
        return (flag, sources)
    }
}

/// Set once by a signal handler, read by the session's loop.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// Whether tako.toml changed since it was last read: its modification time and size.
struct ConfigStamp: Equatable {
    var modified: Date?
    var size: Int?

    init(_ file: URL) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        modified = attributes?[.modificationDate] as? Date
        size = (attributes?[.size] as? NSNumber)?.intValue
    }
}
