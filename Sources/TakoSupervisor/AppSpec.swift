/// Everything needed to run one release of an app: what the server was told by `deploy`,
/// the start command resolved, and the secrets it holds.
public struct AppSpec: Sendable, Hashable {
    public var name: String
    public var version: String
    public var env: String
    public var releasePath: String
    public var start: StartCommand
    /// The probe path, and whether the app chose it (then only 2xx/3xx count).
    public var healthPath: String
    public var healthPathIsExplicit: Bool
    /// The minimum kept running; 0 means on demand.
    public var instances: Int
    /// Instances above the minimum that served nothing for this long are stopped.
    public var idleTimeout: Duration
    public var vars: [String: String]
    public var secrets: [String: String]

    public static let defaultHealthPath = "/_tako/status"

    public init(
        name: String, version: String, env: String, releasePath: String, start: StartCommand,
        healthPath: String? = nil, instances: Int, idleTimeout: Duration, vars: [String: String] = [:],
        secrets: [String: String] = [:]
    ) {
        self.name = name
        self.version = version
        self.env = env
        self.releasePath = releasePath
        self.start = start
        self.healthPath = healthPath ?? Self.defaultHealthPath
        self.healthPathIsExplicit = healthPath != nil
        self.instances = instances
        self.idleTimeout = idleTimeout
        self.vars = vars
        self.secrets = secrets
    }

    /// The process environment of one instance (DESIGN §6): a few inherited basics, the
    /// app's variables, its secrets, then the values the server owns, which nothing overrides.
    public func environment(port: Int, instance: Int, inherited: [String: String]) -> [String: String] {
        var environment: [String: String] = [:]
        for key in ["PATH", "LANG", "LC_ALL", "TZ", "HOME"] {
            if let value = inherited[key] { environment[key] = value }
        }
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        environment.merge(vars) { $1 }
        environment.merge(secrets) { $1 }
        environment["PORT"] = String(port)
        environment["HOST"] = "127.0.0.1"
        environment["ENV"] = env
        environment["TAKO_BUILD"] = version
        environment["TAKO_APP_NAME"] = name
        environment["TAKO_INSTANCE"] = String(instance)
        if start.isJavaScript {
            environment["NODE_ENV"] = env
            environment["BUN_ENV"] = env
        }
        return environment
    }
}
