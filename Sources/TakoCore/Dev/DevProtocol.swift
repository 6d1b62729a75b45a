import Foundation

/// The dev daemon's control socket (`{TAKO_HOME}/dev-server.sock`, mode 0600): one JSON
/// request per connection, answered with a ``ManagementResponse`` frame, like tako-server's
/// management socket. `tako dev` and `tako doctor` are its only clients.
public struct DevRequest: Codable, Sendable, Hashable {
    public enum Command: String, Codable, Sendable {
        /// The daemon's ports and CA → ``DevDaemonInfo``.
        case hello
        /// The owner registers (or updates) its project's app and joins its lease → ``DevAppInfo``.
        case register
        /// Another session joins the lease of a registered app → ``DevAppInfo``.
        case attach
        /// A session renews its lease → ``DevAppInfo`` (an error once the app is gone).
        case heartbeat
        /// A session says goodbye.
        case leave
        /// Restarts the app's process.
        case restart
        /// Every registered app → ``DevAppList``.
        case list
        /// Stops every app and exits.
        case shutdown
    }

    public var command: Command
    /// The project key (``ProjectLock/key(app:directory:)``) for per-app commands.
    public var key: String?
    public var session: String?
    public var app: DevAppConfig?
    /// `register` by a new owner: start the shared log afresh.
    public var truncateLog: Bool?

    public init(command: Command, key: String? = nil, session: String? = nil, app: DevAppConfig? = nil, truncateLog: Bool? = nil) {
        self.command = command
        self.key = key
        self.session = session
        self.app = app
        self.truncateLog = truncateLog
    }

    enum CodingKeys: String, CodingKey {
        case command, key, session, app
        case truncateLog = "truncate_log"
    }
}

/// What `tako dev` tells the daemon about its project, read from `tako.toml`.
public struct DevAppConfig: Codable, Sendable, Hashable {
    public var name: String
    public var directory: String
    /// Route patterns with exact hosts, each `{app}.tako.local` or a subdomain of it (a path
    /// part is allowed: `shop.tako.local/api/*`).
    public var routes: [String]
    /// `[tako] dev`; nil lets the daemon pick the runtime's dev script, else the start command.
    public var command: String?
    /// `[vars]` merged with `[vars.development]`.
    public var vars: [String: String]

    public init(name: String, directory: String, routes: [String], command: String?, vars: [String: String]) {
        self.name = name
        self.directory = directory
        self.routes = routes
        self.command = command
        self.vars = vars
    }
}

public struct DevDaemonInfo: Codable, Sendable, Hashable {
    public var version: String
    public var pid: Int32
    public var httpsPort: Int
    public var httpPort: Int
    public var dnsPort: Int
    public var caPath: String
    /// The hosts file the daemon keeps in step, and whether it could write it.
    public var hostsFile: String
    public var hostsFileWritable: Bool

    public init(
        version: String, pid: Int32, httpsPort: Int, httpPort: Int, dnsPort: Int, caPath: String, hostsFile: String,
        hostsFileWritable: Bool
    ) {
        self.version = version
        self.pid = pid
        self.httpsPort = httpsPort
        self.httpPort = httpPort
        self.dnsPort = dnsPort
        self.caPath = caPath
        self.hostsFile = hostsFile
        self.hostsFileWritable = hostsFileWritable
    }

    enum CodingKeys: String, CodingKey {
        case version, pid
        case httpsPort = "https_port"
        case httpPort = "http_port"
        case dnsPort = "dns_port"
        case caPath = "ca_path"
        case hostsFile = "hosts_file"
        case hostsFileWritable = "hosts_file_writable"
    }
}

public struct DevAppInfo: Codable, Sendable, Hashable {
    public var key: String
    public var name: String
    public var directory: String
    public var urls: [String]
    /// starting, running, idle (stopped for lack of requests), stopped, failed.
    public var state: String
    public var pid: Int32?
    public var sessions: Int
    public var logPath: String
    public var lastError: String?

    public init(
        key: String, name: String, directory: String, urls: [String], state: String, pid: Int32?, sessions: Int,
        logPath: String, lastError: String?
    ) {
        self.key = key
        self.name = name
        self.directory = directory
        self.urls = urls
        self.state = state
        self.pid = pid
        self.sessions = sessions
        self.logPath = logPath
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case key, name, directory, urls, state, pid, sessions
        case logPath = "log_path"
        case lastError = "last_error"
    }
}

public struct DevAppList: Codable, Sendable, Hashable {
    public var apps: [DevAppInfo]

    public init(apps: [DevAppInfo]) {
        self.apps = apps
    }
}

extension TakoHome {
    public var devSocket: URL { root.appendingPathComponent("dev-server.sock") }
    public var devServerLog: URL { root.appendingPathComponent("dev-server.log") }
    public var devLogDirectory: URL { root.appendingPathComponent("dev/logs", isDirectory: true) }

    /// The shared log of one dev project.
    public func devLog(key: String) -> URL {
        devLogDirectory.appendingPathComponent("\(key).jsonl")
    }
}

/// The dev daemon's fixed addresses (DESIGN §1); each can be moved with an environment
/// variable (tests run daemons side by side).
public struct DevPorts: Sendable, Hashable {
    public var https = 47831
    public var http = 47830
    public var dns = 53535
    public var hostsFile = "/etc/hosts"

    public init(environment: [String: String]) {
        if let value = environment["TAKO_DEV_HTTPS_PORT"].flatMap(Int.init) { https = value }
        if let value = environment["TAKO_DEV_HTTP_PORT"].flatMap(Int.init) { http = value }
        if let value = environment["TAKO_DEV_DNS_PORT"].flatMap(Int.init) { dns = value }
        if let value = environment["TAKO_DEV_HOSTS_FILE"], !value.isEmpty { hostsFile = value }
    }
}
