import Foundation
import NIOCore
import NIOPosix
import TakoCore
import TakoHosting
import TakoProxy
import TakoSupervisor

/// `tako-server` itself: the proxy on the HTTP port, the app runtime, and the management
/// socket, started in that order and stopped in reverse.
public final class ServerDaemon: Sendable {
    public let config: ServerConfig
    private let runtime: ServerRuntime
    private let proxy: ProxyServer
    private let management: FrameSocketServer
    private let statusTask: Task<Void, Never>
    private let restartState = Locked<(inProgress: Bool, executable: String?, arguments: [String])>((false, nil, []))
    private let handedOff = AsyncStream<Void>.makeStream()
    private let hardRestarts = AsyncStream<Void>.makeStream()
    /// The port the HTTP listener bound (the configured one, or the one picked for port 0).
    public let httpPort: Int
    /// The port the HTTPS listener bound.
    public let httpsPort: Int

    /// Starts everything, or fails with nothing left running (a bad config or a busy port
    /// never leaves a half-started server).
    ///
    /// With `inheritance` this process is the successor of a graceful restart: it listens on
    /// the sockets it was given, leaves its predecessor's app processes alone, takes over the
    /// management socket's path and reports ready.
    public static func start(config: ServerConfig, inheritance: HandoffInheritance? = nil) async throws -> ServerDaemon {
        // A second server must not share the ports (SO_REUSEPORT would let it) even briefly.
        if inheritance == nil, FrameSocketClient.isAnswering(path: config.socket) {
            throw UserError("another tako-server is already running (it answers on \(config.socket))", hint: "stop it first, or send it SIGHUP to restart it gracefully")
        }
        var settings = SupervisorSettings()
        settings.startTimeout = .seconds(config.startTimeout)
        settings.drainTimeout = .seconds(config.drainTimeout)
        settings.stopGrace = .seconds(config.drainTimeout)
        let supervisorSettings = settings
        do {
            try FileManager.default.createDirectory(atPath: config.dataDir + "/apps", withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create the data directory \(config.dataDir)", hint: "create it and give tako-server write access, or set [server] data_dir")
        }
        let state = try StateStore(dataDir: config.dataDir)
        let store = RoutingSnapshotStore()
        let statusPage = StatusPage()
        var proxyConfiguration = ProxyConfiguration()
        proxyConfiguration.scheme = "http"
        proxyConfiguration.maxRequestsPerClient = config.maxRequestsPerClient
        proxyConfiguration.upstreamResponseTimeout = .seconds(Int64(config.upstreamTimeout))
        let challenges = ChallengeResponder()
        let proxy = ProxyServer(
            configuration: proxyConfiguration, snapshots: store, statusHandler: statusPage.handler, challenges: challenges)
        // HTTPS first: the HTTP listener's redirect needs its port.
        let certificates = CertificateStore()
        let acme: CertificateManager?
        do {
            acme = config.tlsIssuer == .acme ? try CertificateManager(config: config, store: certificates, challenges: challenges) : nil
        } catch {
            await proxy.shutdown(deadline: .zero)
            throw error
        }
        for (host, problem) in certificates.loadDirectory(config.dataDir + "/certs") {
            FileHandle.standardError.write(Data("tako-server: certificate for \(host) not loaded: \(problem)\n".utf8))
        }
        let address: SocketAddress
        let httpsAddress: SocketAddress
        // A successor listens only once its predecessor stopped (see HandoffInheritance).
        let listen: @Sendable () async throws -> (https: SocketAddress, http: SocketAddress) = {
            let httpsAddress: SocketAddress
            do {
                httpsAddress = try await proxy.start(
                    host: config.listenHost, port: config.httpsPort, tls: certificates, inherited: inheritance?.https)
            } catch {
                throw UserError("cannot listen on \(config.listenHost):\(config.httpsPort): \(error)", hint: "is another server using the port? set [server] https_port")
            }
            do {
                let redirect = HTTPSRedirect(store: certificates, httpsPort: httpsAddress.port ?? config.httpsPort)
                let address = try await proxy.start(
                    host: config.listenHost, port: config.httpPort, redirect: redirect, inherited: inheritance?.http)
                return (httpsAddress, address)
            } catch {
                throw UserError("cannot listen on \(config.listenHost):\(config.httpPort): \(error)", hint: "is another server using the port? set [server] http_port")
            }
        }
        if let inheritance {
            httpsAddress = try SocketAddress(ipAddress: "127.0.0.1", port: inheritance.httpsPort)
            address = try SocketAddress(ipAddress: "127.0.0.1", port: inheritance.httpPort)
        } else {
            do {
                (httpsAddress, address) = try await listen()
            } catch {
                await proxy.shutdown(deadline: .zero)
                throw error
            }
        }
        let runtime = ServerRuntime(
            config: config, httpPort: address.port ?? config.httpPort, httpsPort: httpsAddress.port ?? config.httpsPort,
            store: store, statusPage: statusPage, state: state, certificates: certificates, acme: acme
        ) { observer in
            AppSupervisor.Dependencies(observer: observer, settings: supervisorSettings)
        }
        do {
            try await runtime.restore(predecessor: inheritance?.parent)
        } catch {
            await runtime.stopAll()
            await proxy.shutdown(deadline: .zero)
            throw UserError("cannot restore the apps from \(state.path): \(error)", hint: "see the message above; move the file aside to start empty")
        }
        let management: FrameSocketServer
        // A successor binds beside the predecessor's socket and moves it into place once ready.
        let socketPath = inheritance == nil ? config.socket : config.socket + ".next"
        do {
            management = try await FrameSocketServer.start(
                path: socketPath, mode: 0o660, owner: "tako-server", hint: "stop it first, or set [server] socket to another path",
                responder: runtime, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            await runtime.stopAll()
            await proxy.shutdown(deadline: .zero)
            if let error = error as? UserError { throw error }
            throw UserError("cannot open the management socket \(config.socket): \(error)", hint: "check the directory's permissions, or set [server] socket")
        }
        if let inheritance {
            let waiting = await runtime.waitUntilServing(timeout: .seconds(config.startTimeout))
            guard waiting.isEmpty else {
                await management.close()
                await runtime.stopAll()
                await proxy.shutdown(deadline: .zero)
                throw UserError(
                    "the apps \(waiting.joined(separator: ", ")) had no healthy instance within \(config.startTimeout) s",
                    hint: "the running server keeps serving; fix the apps, or restart hard")
            }
            inheritance.reportReady()
            await withCheckedContinuation { continuation in
                Thread {
                    inheritance.waitForGo()
                    continuation.resume()
                }.start()
            }
            // The predecessor has moved this process's socket over its own path (so the path
            // always answers) and stopped accepting: the listeners are this process's now.
            do {
                if access(socketPath, F_OK) == 0, rename(socketPath, config.socket) != 0 {
                    throw UserError("cannot move the management socket into place at \(config.socket): \(String(cString: strerror(errno)))")
                }
                _ = try await listen()
            } catch {
                // Nothing better than to say why and go.
                await management.close()
                await runtime.stopAll()
                await proxy.shutdown(deadline: .zero)
                throw error
            }
        } else {
            SystemdNotify.send("READY=1")
        }
        // uptime_secs and instance states change without a command; refresh the page often.
        let statusTask = Task {
            while !Task.isCancelled {
                await runtime.refreshStatusPage()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return ServerDaemon(config: config, runtime: runtime, proxy: proxy, management: management, statusTask: statusTask, httpPort: address.port ?? config.httpPort,
            httpsPort: httpsAddress.port ?? config.httpsPort)
    }

    private init(
        config: ServerConfig, runtime: ServerRuntime, proxy: ProxyServer, management: FrameSocketServer,
        statusTask: Task<Void, Never>, httpPort: Int, httpsPort: Int
    ) {
        self.config = config
        self.runtime = runtime
        self.proxy = proxy
        self.management = management
        self.statusTask = statusTask
        self.httpPort = httpPort
        self.httpsPort = httpsPort
    }

    /// Lets `restart_server` and `restart()` start successors from `executable arguments`.
    public func enableRestarts(executable: String, arguments: [String]) async {
        restartState.withLock {
            $0.executable = executable
            $0.arguments = arguments
        }
        await runtime.setRestartHandler(executable: executable) { [weak self] hard in
            guard let self else { throw UserError("tako-server is stopping") }
            return hard ? try self.requestHardRestart() : try await self.restart()
        }
    }

    /// The binary and arguments restarts run (this process's own, see `enableRestarts`).
    public var restartCommand: (executable: String, arguments: [String])? {
        restartState.withLock { state in state.executable.map { ($0, state.arguments) } }
    }

    /// `restart_server` with `hard`: claims the restart and lets `waitUntilHardRestart`
    /// return, so the caller can answer before the process stops.
    func requestHardRestart() throws(UserError) -> Int32 {
        let claimed = restartState.withLock { state -> Bool in
            guard !state.inProgress, state.executable != nil else { return false }
            state.inProgress = true
            return true
        }
        guard claimed else { throw UserError("a restart is already in progress", hint: "wait for it to finish") }
        FileHandle.standardError.write(Data("tako-server: hard restart requested\n".utf8))
        hardRestarts.continuation.yield()
        return getpid()
    }

    /// Returns once a hard restart was requested: the caller shuts down, then runs
    /// `executeAgain()`.
    public func waitUntilHardRestart() async {
        for await _ in hardRestarts.stream { return }
    }

    /// A graceful restart (SIGHUP, `restart_server`): starts a successor, and once it is
    /// ready closes the management socket and the listeners and lets it accept; returns its
    /// pid. `waitUntilHandedOff` returns then, and `finishHandoff` drains. Throws, still
    /// serving, when the successor fails.
    public func restart() async throws -> Int32 {
        let claimed = restartState.withLock { state -> (String, [String])? in
            guard !state.inProgress, let executable = state.executable else { return nil }
            state.inProgress = true
            return (executable, state.arguments)
        }
        guard let (executable, arguments) = claimed else {
            throw UserError("a graceful restart is already in progress", hint: "wait for it to finish")
        }
        await runtime.setRestarting(true)
        FileHandle.standardError.write(Data("tako-server: graceful restart: starting a successor\n".utf8))
        let descriptors = proxy.listenerDescriptors
        let timeout = Duration.seconds(config.startTimeout + 60)
        let ports = (https: httpsPort, http: httpPort)
        let result: Result<(pid: pid_t, go: Int32), UserError> = await withCheckedContinuation { continuation in
            // The wait blocks a thread for as long as the successor takes: not a pool thread.
            Thread {
                continuation.resume(returning: Result { () throws(UserError) -> (pid: pid_t, go: Int32) in
                    guard descriptors.count == 2 else { throw UserError("this server has no listeners to hand over") }
                    return try HandoffSpawner.spawn(
                        executable: executable, arguments: arguments, https: descriptors[0], http: descriptors[1], ports: ports,
                        timeout: timeout)
                })
            }.start()
        }
        let successor: pid_t
        let go: Int32
        do {
            (successor, go) = try result.get()
        } catch {
            restartState.withLock { $0.inProgress = false }
            await runtime.setRestarting(false)
            throw error
        }
        statusTask.cancel()
        // The successor's socket replaces ours at the path in one step (rename), so a client
        // never finds the path without a server; ours closes after (its connections finish).
        if rename(config.socket + ".next", config.socket) != 0 {
            FileHandle.standardError.write(Data(
                "tako-server: cannot move the successor's socket into place: \(String(cString: strerror(errno)))\n".utf8))
        }
        await management.close(removingPath: false)
        await proxy.stopAccepting()
        let line = Array("go\n".utf8)
        _ = write(go, line, line.count)
        close(go)
        FileHandle.standardError.write(Data("tako-server: pid \(successor) serves now; draining\n".utf8))
        handedOff.continuation.yield()
        return successor
    }

    /// Returns once a restart handed the traffic over (or the waiting task is cancelled).
    public func waitUntilHandedOff() async {
        for await _ in handedOff.stream { return }
    }

    /// After a handoff: in-flight requests finish politely (WebSockets get the drain
    /// timeout), then this process's app instances stop.
    public func finishHandoff() async {
        proxy.finishPolitely(idleGrace: .seconds(2))
        try? await Task.sleep(for: .seconds(2))
        await proxy.shutdown(deadline: .seconds(Int64(config.drainTimeout)))
        await runtime.stopAll()
    }

    /// Stops taking commands and traffic, lets in-flight requests finish, stops the apps.
    public func shutdown() async {
        statusTask.cancel()
        await management.close()
        unlink(config.socket)
        proxy.startDraining()
        await runtime.stopAll()
        await proxy.shutdown(deadline: .seconds(10))
    }
}

extension ServerDaemon {
    /// The binary a graceful restart starts (see `HandoffSpawner.currentExecutable`).
    public static func currentExecutable() -> String {
        HandoffSpawner.currentExecutable()
    }
}
