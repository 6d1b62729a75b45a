import ArgumentParser
import Foundation
import NIOCore
import TakoCore
import TakoHosting
import TakoProxy

/// `tako-server proxy`: the proxy alone, with fixed routes to fixed upstreams.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the HTTP proxy alone with static routes (for benchmarks and debugging).",
        discussion: """
            Routes come from --config (JSON: {"listen_http": "127.0.0.1:8080", "workers": 1, \
            "routes": [{"host": "app.test", "upstream": "127.0.0.1:3000"}]}) or from --listen and \
            --route. Runs in the foreground; SIGTERM or SIGINT drains in-flight requests and exits.
            """
    )

    @Option(help: "A JSON file with listen_http, workers, routes (and listen_https, cert, key).")
    var config: String?

    @Option(help: "The address to listen on (HOST:PORT).")
    var listen: String?

    @Option(name: .customLong("route"), help: "HOST=UPSTREAM[,UPSTREAM...]; repeatable. HOST is a route pattern.")
    var routes: [String] = []

    @Option(help: "Event loops (default: one per core).")
    var workers: Int?

    func run() async throws {
        do {
            let settings = try loadSettings()
            var configuration = ProxyConfiguration(eventLoops: workers ?? settings.workers ?? System.coreCount)
            configuration.trustedProxies = Set(settings.trustedProxies ?? [])
            let store = RoutingSnapshotStore(try settings.snapshot())
            let server = ProxyServer(configuration: configuration, snapshots: store)
            let (host, port) = try settings.listenAddress()
            let address = try await server.start(host: host, port: port)
            if let https = try settings.https() {
                let tlsAddress = try await server.start(host: https.host, port: https.port, tls: https.store)
                FileHandle.standardError.write(Data("tako-server proxy listening on \(address) and \(tlsAddress) (HTTPS)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("tako-server proxy listening on \(address)\n".utf8))
            }
            await TerminationSignal.wait()
            await server.shutdown(deadline: .seconds(10))
        } catch let error as any UserFacingError {
            throw report(error)
        } catch let error as IOError {
            FileHandle.standardError.write(Data("error: cannot listen: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func loadSettings() throws -> StaticProxyConfig {
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw StaticProxyConfigError("Cannot read \(config).", hint: "Check the path.")
            }
            do {
                return try JSONDecoder().decode(StaticProxyConfig.self, from: data)
            } catch {
                throw StaticProxyConfigError(
                    "\(config) is not a valid proxy configuration.",
                    hint: "It needs listen_http and routes: [{\"host\": ..., \"upstream\": ...}].")
            }
        }
        guard let listen, !routes.isEmpty else {
            throw StaticProxyConfigError("No routes given.", hint: "Pass --config FILE, or --listen HOST:PORT and --route HOST=UPSTREAM.")
        }
        return StaticProxyConfig(listenHTTP: listen, routes: try routes.map(StaticProxyConfig.route(argument:)))
    }
}
