import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoCore
@testable import TakoProxy

/// A real upstream app process (Support/upstream.py) on a free loopback port.
final class UpstreamProcess: Sendable {
    let name: String
    let port: Int
    private let process: ChildProcess

    init(name: String) throws {
        self.name = name
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/upstream.py")
        process = try ChildProcess(["/usr/bin/env", "python3", script.path, name])
        guard process.firstLine.hasPrefix("READY "), let port = Int(process.firstLine.dropFirst(6)) else {
            throw UpstreamError(message: "upstream \(name) did not start: \(process.firstLine)")
        }
        self.port = port
    }

    var address: SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: port) }
}

/// `tako-server proxy` as its own process (built beside the test bundle), for measuring it.
final class ProxyProcess {
    let port: Int
    let process: ChildProcess

    init(routes: [String]) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tako-server").path
        process = try ChildProcess(
            [binary, "proxy", "--listen", "127.0.0.1:0", "--workers", "1"] + routes.flatMap { ["--route", $0] },
            readyOn: STDERR_FILENO)
        // "tako-server proxy listening on [IPv4]127.0.0.1/127.0.0.1:PORT"
        guard process.firstLine.contains("listening"), let port = process.firstLine.split(separator: ":").last.flatMap({ Int($0) })
        else {
            throw UpstreamError(message: "tako-server proxy did not start: \(process.firstLine)")
        }
        self.port = port
    }
}

typealias UpstreamError = TestSupportError

/// A running proxy with routes to the given apps.
final class RunningProxy {
    let server: ProxyServer
    let store: RoutingSnapshotStore
    let port: Int

    init(
        routes: [String: [String]], upstreams: [String: [SocketAddress]],
        configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2), challenges: ChallengeResponder? = nil,
        statusHandler: ProxyServer.StatusHandler? = nil
    ) async throws {
        var table: [String: [RoutePattern]] = [:]
        for (app, patterns) in routes { table[app] = try patterns.map { try RoutePattern($0) } }
        var apps: [String: AppBackend] = [:]
        for (app, addresses) in upstreams {
            apps[app] = AppBackend(name: app, endpoints: addresses.map { UpstreamEndpoint(address: $0) })
        }
        store = RoutingSnapshotStore(RoutingSnapshot(routes: try RouteTable(table), apps: apps))
        server = ProxyServer(configuration: configuration, snapshots: store, statusHandler: statusHandler, challenges: challenges)
        let address = try await server.start(host: "127.0.0.1", port: 0)
        port = address.port ?? 0
    }

    /// The common case: `example.test` routed to one upstream app, `web`.
    convenience init(serving web: UpstreamProcess, configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2)) async throws {
        try await self.init(routes: ["web": ["example.test"]], upstreams: ["web": [web.address]], configuration: configuration)
    }

    /// A proxy routing `hosts` to `web` with an HTTPS listener on `tls`: the proxy and that
    /// listener's port, as the HTTPS and HTTP/2 suites use them.
    static func https(
        serving web: UpstreamProcess, hosts: [String], tls: CertificateStore,
        configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2)
    ) async throws -> (RunningProxy, Int) {
        let proxy = try await RunningProxy(routes: ["web": hosts], upstreams: ["web": [web.address]], configuration: configuration)
        return (proxy, try await proxy.server.start(host: "127.0.0.1", port: 0, tls: tls).port ?? 0)
    }

    func stop() async {
        await server.shutdown(deadline: .seconds(5))
    }
}


extension UpstreamProcess {
    /// How many requests for `target` ("GET /x") this upstream has received so far.
    func seen(_ target: String) -> Int {
        guard let result = try? Curl.run(["http://127.0.0.1:\(port)/__seen"]) else { return 0 }
        return String(decoding: result.output, as: UTF8.self).components(separatedBy: "\"\(target)\"").count - 1
    }
}

/// Polls `condition` (every 20 ms, up to `timeout`) and fails the wait when it never holds.
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw UpstreamError(message: "timed out waiting until \(what)")
}

extension CertificateStore {
    /// A store with a certificate from `ca` for each name, as the HTTPS suites' listeners use.
    static func issued(by ca: TestCA, for names: [String]) throws -> CertificateStore {
        let store = CertificateStore()
        for name in names {
            let certificate = try ca.issue([name])
            try store.install(host: name, chainPEM: certificate.chain, keyPEM: certificate.key)
        }
        return store
    }
}
