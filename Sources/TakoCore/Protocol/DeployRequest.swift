/// What the server needs to roll out one release of an app (the `deploy` command).
///
/// The release directory is already unpacked on the host (`release_path`); this request
/// only says how to run it. Secrets are never part of a release: they ride along in
/// `secrets` (for this deploy, replacing the app's) or arrive by `update_secrets`, and the
/// server keeps them sealed, never in the stored request.
public struct DeployRequest: Codable, Hashable, Sendable {
    public var app: String
    public var version: String
    /// The environment name (`production`, `staging`, ...).
    public var env: String
    /// Absolute path of the unpacked release on the host.
    public var releasePath: String
    /// Route patterns (`host`, `*.host`, `host/path/*`).
    public var routes: [String]
    /// Always-on minimum; 0 means on demand (scale to zero).
    public var instances: Int
    public var idleTimeoutSecs: Int
    /// The start command, run by a shell in the release directory; nil lets the server
    /// use the runtime's default.
    public var start: String?
    /// The health probe path; nil means the default.
    public var healthCheck: String?
    /// Merged variables (not secrets).
    public var vars: [String: String]
    /// The app's secrets from this deploy on; nil keeps the ones it has.
    public var secrets: [String: String]?

    public init(
        app: String, version: String, env: String, releasePath: String, routes: [String],
        instances: Int, idleTimeoutSecs: Int, start: String? = nil, healthCheck: String? = nil,
        vars: [String: String] = [:], secrets: [String: String]? = nil
    ) {
        self.app = app
        self.version = version
        self.env = env
        self.releasePath = releasePath
        self.routes = routes
        self.instances = instances
        self.idleTimeoutSecs = idleTimeoutSecs
        self.start = start
        self.healthCheck = healthCheck
        self.vars = vars
        self.secrets = secrets
    }

    enum CodingKeys: String, CodingKey {
        case app, version, env
        case releasePath = "release_path"
        case routes, instances
        case idleTimeoutSecs = "idle_timeout_secs"
        case start
        case healthCheck = "health_check"
        case vars, secrets
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        app = try container.decode(String.self, forKey: .app)
        version = try container.decode(String.self, forKey: .version)
        env = try container.decode(String.self, forKey: .env)
        releasePath = try container.decode(String.self, forKey: .releasePath)
        routes = try container.decode([String].self, forKey: .routes)
        instances = try container.decode(Int.self, forKey: .instances)
        idleTimeoutSecs = try container.decode(Int.self, forKey: .idleTimeoutSecs)
        start = try container.decodeIfPresent(String.self, forKey: .start)
        healthCheck = try container.decodeIfPresent(String.self, forKey: .healthCheck)
        vars = try container.decodeIfPresent([String: String].self, forKey: .vars) ?? [:]
        secrets = try container.decodeIfPresent([String: String].self, forKey: .secrets)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(version, forKey: .version)
        try container.encode(env, forKey: .env)
        try container.encode(releasePath, forKey: .releasePath)
        try container.encode(routes, forKey: .routes)
        try container.encode(instances, forKey: .instances)
        try container.encode(idleTimeoutSecs, forKey: .idleTimeoutSecs)
        try container.encodeIfPresent(start, forKey: .start)
        try container.encodeIfPresent(healthCheck, forKey: .healthCheck)
        try container.encode(vars, forKey: .vars)
        try container.encodeIfPresent(secrets, forKey: .secrets)
    }

    /// This request without its secrets: what may be stored or shown.
    public var withoutSecrets: DeployRequest {
        var copy = self
        copy.secrets = nil
        return copy
    }
}
