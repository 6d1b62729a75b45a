import Foundation

/// `server-config.toml`: how one `tako-server` host is set up (DESIGN §3). Every key is
/// optional; a missing file at the default path means all defaults.
public struct ServerConfig: Hashable, Sendable {
    /// How HTTPS certificates are obtained.
    public enum TLSIssuer: String, Hashable, Sendable, CaseIterable {
        /// Certificates from an ACME CA (Let's Encrypt by default).
        case acme
        /// Certificates from a CA on the host (as Caddy's `tls internal`).
        case `internal`
        /// Only the certificates placed in `{data_dir}/certs/` by hand.
        case none
    }

    public static let defaultPath = "/opt/tako/server-config.toml"
    /// The environment variable that points at another file (tests use it).
    public static let pathVariable = "TAKO_SERVER_CONFIG"

    /// Plain HTTP listener; 0 picks a free port (reported by `server_info`).
    public var httpPort = 80
    public var httpsPort = 443
    /// Where apps, state and certificates live.
    public var dataDir = "/opt/tako"
    /// The management socket.
    public var socket = "/var/run/tako/tako.sock"
    /// The address the listeners bind to. Not in DESIGN's table: tests bind loopback
    /// addresses side by side; a host serves on all of them.
    public var listenHost = "0.0.0.0"
    /// Seconds a new instance has to become healthy (deploys, restarts, cold starts).
    public var startTimeout = 30
    /// Seconds a stopping instance has to finish its requests, and again to exit after
    /// SIGTERM before it is killed.
    public var drainTimeout = 30
    /// Requests one client address may have in flight to apps at once; more get 429 (0: no
    /// cap, for a server behind a load balancer that is not a trusted proxy).
    public var maxRequestsPerClient = 2048
    /// Seconds an app has to send a response head before the client gets 504.
    public var upstreamTimeout = 60
    public var tlsIssuer = TLSIssuer.acme
    public var acmeEmail: String?
    public var acmeStaging = false
    public var acmeDirectoryURL: String?
    public var acmeCARoot: String?
    /// Seconds before a failed certificate request is tried again (doubling up to 6 h).
    public var acmeRetrySeconds = 60
    /// How often certificates are checked for renewal (`[acme] renew_check_seconds`); each is
    /// renewed once less than a third of its lifetime remains.
    public var acmeRenewCheckSeconds = 12 * 3600

    public static let letsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory"
    public static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

    /// The ACME directory in use: `directory_url`, else Let's Encrypt (staging when `staging`).
    public var acmeDirectory: URL {
        URL(string: acmeDirectoryURL ?? (acmeStaging ? Self.letsEncryptStaging : Self.letsEncryptProduction))!
    }

    public init() {}

    /// The file the daemon reads: `--config`, else `TAKO_SERVER_CONFIG`, else the default.
    /// `explicit` tells whether the user named it (then a missing file is an error).
    public static func location(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (path: String, explicit: Bool) {
        if let flag { return (flag, true) }
        if let path = environment[pathVariable], !path.isEmpty { return (path, true) }
        return (defaultPath, false)
    }

    /// Reads the file at `path`. A named file that does not exist is an error (a typo must not
    /// start a server with other settings); the default file may be absent.
    public static func load(path: String, explicit: Bool) throws(ConfigProblems) -> ServerConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            if !explicit { return ServerConfig() }
            throw ConfigProblems([ConfigError(
                .missingFile, file: path, "the server configuration file does not exist",
                hint: "create it, or leave out --config / \(pathVariable) to use the defaults")])
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigProblems([ConfigError(
                .unreadableFile, file: path, "cannot read the server configuration file",
                hint: "check that it is readable UTF-8 text")])
        }
        let (config, problems) = parse(text, file: path)
        if problems.contains(where: { $0.severity == .error }) { throw ConfigProblems(problems) }
        return config
    }
}
