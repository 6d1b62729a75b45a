import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TakoCore
import TakoHosting
import TakoProxy

/// `tako-dev-server serve` put together: HTTPS on 127.0.0.1:47831 with leaves from the local
/// CA, the HTTP redirect on 47830, the DNS responder on 53535, and the control socket
/// `{TAKO_HOME}/dev-server.sock` (mode 0600) that `tako dev` registers its project on.
public final class DevDaemon: Sendable {
    public let info: DevDaemonInfo
    let runtime: DevRuntime
    private let proxy: ProxyServer
    private let dns: DNSResponder
    private let control: FrameSocketServer
    private let socketPath: String
    private let ticker: Task<Void, Never>

    private init(
        info: DevDaemonInfo, runtime: DevRuntime, proxy: ProxyServer, dns: DNSResponder, control: FrameSocketServer,
        socketPath: String, ticker: Task<Void, Never>
    ) {
        self.info = info
        self.runtime = runtime
        self.proxy = proxy
        self.dns = dns
        self.control = control
        self.socketPath = socketPath
        self.ticker = ticker
    }

    public static func start(home: TakoHome, ports: DevPorts, settings: DevRuntime.Settings) async throws(UserError) -> DevDaemon {
        // First of all: the HTTPS port. A second daemon, or any other program there, is a
        // clear message rather than a half-started daemon.
        try PortCheck.requireFree(host: "127.0.0.1", port: ports.https)
        let socketPath = home.devSocket.path
        if FrameSocketClient.isAnswering(path: socketPath) {
            throw UserError("another tako-dev-server is already running (it answers on \(socketPath))", hint: "tako doctor shows it")
        }
        do { try home.ensureExists() } catch {
            throw UserError("cannot create \(home.root.path): \(error.localizedDescription)", hint: "check its parent's permissions")
        }
        let ca = try DevCertificateAuthority(home: home)
        let dns = DNSResponder()
        let directory = DevHostDirectory(dns: dns, hostsFile: ports.hostsFile, httpsPort: ports.https)
        let store = RoutingSnapshotStore()
        let runtime = DevRuntime(home: home, settings: settings, directory: directory, store: store)
        // Any name under tako.local gets a leaf, so a typo reaches the page listing the real URLs
        // instead of a certificate error (the listener is loopback only).
        let certificates = ca.store(allowing: { name in directory.allows(name) || DevHostDirectory.isDevName(name) })
        var configuration = ProxyConfiguration(eventLoops: 1)
        configuration.scheme = "https"
        let proxy = ProxyServer(
            configuration: configuration, snapshots: store,
            unmatched: { host in (.misdirectedRequest, UnknownHostPage.render(host: host, urls: directory.listing())) })
        do {
            _ = try await proxy.start(host: "127.0.0.1", port: ports.https, tls: certificates)
            _ = try await proxy.start(host: "127.0.0.1", port: ports.http, redirect: HTTPSRedirect(store: certificates, httpsPort: ports.https))
        } catch {
            await proxy.shutdown(deadline: .zero)
            throw UserError("cannot listen on 127.0.0.1:\(ports.https) and :\(ports.http): \(error)", hint: "another program holds one of them; stop it")
        }
        do {
            _ = try await dns.start(port: ports.dns)
        } catch {
            // Only macOS resolves through it; Linux uses the hosts file, so the daemon goes on.
            FileHandle.standardError.write(Data("tako-dev-server: no DNS responder on 127.0.0.1:\(ports.dns): \(error)\n".utf8))
        }
        let control: FrameSocketServer
        do {
            control = try await FrameSocketServer.start(
                path: socketPath, mode: 0o600, owner: "tako-dev-server", hint: "tako doctor shows it", responder: runtime,
                group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            await proxy.shutdown(deadline: .zero)
            await dns.stop()
            if let error = error as? UserError { throw error }
            throw UserError("cannot open the control socket \(socketPath): \(error)", hint: "check the permissions of \(home.root.path)")
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await runtime.tick()
            }
        }
        let info = DevDaemonInfo(
            version: TakoVersion.current, pid: getpid(), httpsPort: ports.https, httpPort: ports.http, dnsPort: ports.dns,
            caPath: ca.certificatePath, hostsFile: ports.hostsFile, hostsFileWritable: directory.canWriteHostsFile)
        await runtime.setInfo(info)
        return DevDaemon(info: info, runtime: runtime, proxy: proxy, dns: dns, control: control, socketPath: socketPath, ticker: ticker)
    }

    /// Returns when SIGTERM or SIGINT arrives or a client asks the daemon to shut down.
    public func waitForShutdown() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await TerminationSignal.wait() }
            group.addTask { await self.runtime.waitForShutdownRequest() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops every app, then the listeners, and removes the socket.
    public func shutdown() async {
        ticker.cancel()
        await control.close()
        unlink(socketPath)
        await runtime.stopAll()
        await proxy.shutdown(deadline: .seconds(2))
        await dns.stop()
    }
}
