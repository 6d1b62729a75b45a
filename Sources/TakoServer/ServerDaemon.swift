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
    /// The port the HTTP listener bound (the configured one, or the one picked for port 0).
    public let httpPort: Int
    /// The port the HTTPS listener bound.
    public let httpsPort: Int

    /// Starts everything, or fails with nothing left running (a bad config or a busy port
    /// never leaves a half-started server).
    public static func start(config: ServerConfig) async throws -> ServerDaemon {
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
        do {
            httpsAddress = try await proxy.start(host: config.listenHost, port: config.httpsPort, tls: certificates)
        } catch {
            await proxy.shutdown(deadline: .zero)
            throw UserError("cannot listen on \(config.listenHost):\(config.httpsPort): \(error)", hint: "is another server using the port? set [server] https_port")
        }
        do {
            let redirect = HTTPSRedirect(store: certificates, httpsPort: httpsAddress.port ?? config.httpsPort)
            address = try await proxy.start(host: config.listenHost, port: config.httpPort, redirect: redirect)
        } catch {
            await proxy.shutdown(deadline: .zero)
            throw UserError("cannot listen on \(config.listenHost):\(config.httpPort): \(error)", hint: "is another server using the port? set [server] http_port")
        }
        let runtime = ServerRuntime(
            config: config, httpPort: address.port ?? config.httpPort, httpsPort: httpsAddress.port ?? config.httpsPort,
            store: store, statusPage: statusPage, state: state, certificates: certificates, acme: acme
        ) { observer in
            AppSupervisor.Dependencies(observer: observer, settings: supervisorSettings)
        }
        do {
            try await runtime.restore()
        } catch {
            await runtime.stopAll()
            await proxy.shutdown(deadline: .zero)
            throw UserError("cannot restore the apps from \(state.path): \(error)", hint: "see the message above; move the file aside to start empty")
        }
        let management: FrameSocketServer
        do {
            management = try await FrameSocketServer.start(
                path: config.socket, mode: 0o660, owner: "tako-server", hint: "stop it first, or set [server] socket to another path",
                responder: runtime, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            await runtime.stopAll()
            await proxy.shutdown(deadline: .zero)
            if let error = error as? UserError { throw error }
            throw UserError("cannot open the management socket \(config.socket): \(error)", hint: "check the directory's permissions, or set [server] socket")
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
