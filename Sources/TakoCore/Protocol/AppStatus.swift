import Foundation

/// One app as the server sees it, in answers to `status` and in `GET /_tako/status`.
public struct AppStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Hashable, Sendable {
        /// At least one instance serves traffic.
        case running
        /// No instance runs (on-demand app, scaled to zero); the next request starts one.
        case idle
        /// A rolling update is in progress.
        case deploying
        /// Stopped by `stop`; requests are not served.
        case stopped
        /// The last start or deploy failed; see `last_error`.
        case error
    }

    public var name: String
    public var version: String
    public var env: String?
    public var state: State
    public var lastError: String?
    public var instances: [InstanceStatus]
    /// When the current release went live; sent as ISO 8601 UTC with second precision
    /// (fractional seconds are accepted when decoding).
    public var deployedAt: Date?
    /// In a deploy's answer only: what the deployer should act on, one sentence each (a
    /// wildcard host that needs a certificate placed by hand, say).
    public var notices: [String]?

    public init(
        name: String, version: String, env: String? = nil, state: State, lastError: String? = nil,
        instances: [InstanceStatus] = [], deployedAt: Date? = nil
    ) {
        self.name = name
        self.version = version
        self.env = env
        self.state = state
        self.lastError = lastError
        self.instances = instances
        self.deployedAt = deployedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, version, env, state
        case lastError = "last_error"
        case instances
        case deployedAt = "deployed_at"
        case notices
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(String.self, forKey: .version)
        env = try container.decodeIfPresent(String.self, forKey: .env)
        state = try container.decode(State.self, forKey: .state)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        instances = try container.decodeIfPresent([InstanceStatus].self, forKey: .instances) ?? []
        deployedAt = try ProtocolDate.decode(from: container, forKey: .deployedAt)
        notices = try container.decodeIfPresent([String].self, forKey: .notices)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encodeIfPresent(env, forKey: .env)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(lastError, forKey: .lastError)
        try container.encode(instances, forKey: .instances)
        try container.encodeIfPresent(deployedAt.map(ProtocolDate.string), forKey: .deployedAt)
        try container.encodeIfPresent(notices, forKey: .notices)
    }
}

/// One running (or recently running) process of an app.
public struct InstanceStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Hashable, Sendable {
        case starting, ready, healthy, unhealthy, draining, stopped
    }

    public var id: Int
    public var state: State
    public var port: Int
    /// Nil before the process is spawned and after it exited.
    public var pid: Int32?
    public var uptimeSecs: Int
    public var requestsTotal: Int

    public init(id: Int, state: State, port: Int, pid: Int32?, uptimeSecs: Int, requestsTotal: Int) {
        self.id = id
        self.state = state
        self.port = port
        self.pid = pid
        self.uptimeSecs = uptimeSecs
        self.requestsTotal = requestsTotal
    }

    enum CodingKeys: String, CodingKey {
        case id, state, port, pid
        case uptimeSecs = "uptime_secs"
        case requestsTotal = "requests_total"
    }
}

/// The answer to `status`: `{"apps":[...], "certificates":[...]}`, every app or the one
/// asked for, and the HTTPS certificate of every host the server manages.
public struct StatusReport: Codable, Hashable, Sendable {
    public var apps: [AppStatus]
    public var certificates: [CertificateStatus]?

    public init(apps: [AppStatus], certificates: [CertificateStatus]? = nil) {
        self.apps = apps
        self.certificates = certificates
    }
}
