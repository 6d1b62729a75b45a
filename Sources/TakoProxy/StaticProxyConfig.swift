import Foundation
import NIOCore
import TakoCore

/// A proxy with fixed routes to fixed upstream addresses, read from JSON: what
/// `tako-server proxy --config` runs for benchmarks and debugging. The shape is the one
/// ../shared/bench/proxy-bench.sh writes:
///
/// ```json
/// {"listen_http": "127.0.0.1:18080", "workers": 1,
///  "routes": [{"host": "app.bench.test", "upstream": "127.0.0.1:18000"}]}
/// ```
///
/// `host` is any route pattern (`example.com/api/*`, `*.example.com`); `upstreams` may list
/// several addresses for one route. With `listen_https`, `cert` and `key` (PEM files), an
/// HTTPS listener serves that certificate for every route's host.
public struct StaticProxyConfig: Decodable, Sendable {
    public struct Route: Decodable, Sendable {
        public var host: String
        public var upstream: String?
        public var upstreams: [String]?
    }

    public var listenHTTP: String
    public var listenHTTPS: String?
    public var certificate: String?
    public var key: String?
    public var workers: Int?
    public var routes: [Route]
    public var trustedProxies: [String]?

    enum CodingKeys: String, CodingKey {
        case listenHTTP = "listen_http"
        case listenHTTPS = "listen_https"
        case certificate = "cert"
        case key
        case workers, routes
        case trustedProxies = "trusted_proxies"
    }

    public init(listenHTTP: String, workers: Int? = nil, routes: [Route], trustedProxies: [String]? = nil) {
        self.listenHTTP = listenHTTP
        self.workers = workers
        self.routes = routes
        self.trustedProxies = trustedProxies
    }

    /// A route for each `--route HOST=UPSTREAM[,UPSTREAM...]` argument.
    public static func route(argument: String) throws(StaticProxyConfigError) -> Route {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
            throw StaticProxyConfigError("Route '\(argument)' is not HOST=UPSTREAM.", hint: "For example: --route app.test=127.0.0.1:3000")
        }
        let upstreams = argument[argument.index(after: equals)...].split(separator: ",").map(String.init)
        return Route(host: String(argument[..<equals]), upstream: nil, upstreams: upstreams)
    }

    /// The listen address as host and port.
    public func listenAddress() throws(StaticProxyConfigError) -> (host: String, port: Int) {
        try Self.hostAndPort(listenHTTP, what: "listen address")
    }

    /// The HTTPS listener's address and certificates, when the config asks for one.
    public func https() throws(StaticProxyConfigError) -> (host: String, port: Int, store: CertificateStore)? {
        guard let listenHTTPS, let certificate, let key else { return nil }
        let (host, port) = try Self.hostAndPort(listenHTTPS, what: "HTTPS listen address")
        guard let chain = FileManager.default.contents(atPath: certificate), let keyPEM = FileManager.default.contents(atPath: key) else {
            throw StaticProxyConfigError("Cannot read \(certificate) or \(key).", hint: "cert and key are PEM files.")
        }
        let store = CertificateStore()
        for route in routes {
            guard let pattern = try? RoutePattern(route.host) else { continue }
            do {
                try store.install(host: pattern.hostName, chainPEM: Array(chain), keyPEM: Array(keyPEM))
            } catch {
                throw StaticProxyConfigError(error.message, hint: error.hint)
            }
        }
        return (host, port, store)
    }

    /// The routing snapshot: one app per route, named after the route.
    public func snapshot() throws(StaticProxyConfigError) -> RoutingSnapshot {
        var patterns: [String: [RoutePattern]] = [:]
        var apps: [String: AppBackend] = [:]
        for (index, route) in routes.enumerated() {
            let pattern: RoutePattern
            do {
                pattern = try RoutePattern(route.host)
            } catch {
                throw StaticProxyConfigError(error.message, hint: error.hint)
            }
            let addresses = (route.upstreams ?? []) + (route.upstream.map { [$0] } ?? [])
            guard !addresses.isEmpty else {
                throw StaticProxyConfigError("Route '\(route.host)' has no upstream.", hint: "Add \"upstream\": \"127.0.0.1:3000\".")
            }
            var endpoints: [UpstreamEndpoint] = []
            for address in addresses {
                let (host, port) = try Self.hostAndPort(address, what: "upstream")
                do {
                    endpoints.append(UpstreamEndpoint(address: try SocketAddress.makeAddressResolvingHost(host, port: port)))
                } catch {
                    throw StaticProxyConfigError("Upstream '\(address)' cannot be resolved.", hint: "Use an IP address and port.")
                }
            }
            let app = "route-\(index + 1)"
            patterns[app] = [pattern]
            apps[app] = AppBackend(name: app, endpoints: endpoints)
        }
        do {
            return RoutingSnapshot(routes: try RouteTable(patterns), apps: apps)
        } catch {
            throw StaticProxyConfigError(error.message, hint: error.hint)
        }
    }

    static func hostAndPort(_ text: String, what: String) throws(StaticProxyConfigError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw StaticProxyConfigError("The \(what) '\(text)' is not HOST:PORT.", hint: "For example: 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

/// A static proxy configuration that cannot be used.
public typealias StaticProxyConfigError = UserError
