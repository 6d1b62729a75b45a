/// The contents of a project's `tako.toml` (DESIGN.md §4), checked and typed.
///
/// Built by `TakoConfig.parse`; the name-dependent rules (development routes) are checked by
/// `TakoProject.load`, which knows the app's name.
public struct TakoConfig: Sendable {
    public struct Environment: Sendable {
        public var name: String
        /// The routes as written, in order (an environment without routes has none).
        public var routes: [RoutePattern]
        /// `route`/`routes` were written: the line, for messages.
        public var routesLine: Int?
        /// The non-route keys of `[envs.<name>]`, which are environment variables.
        public var variables: [String: String]
        /// The line of the `[envs.<name>]` header.
        public var line: Int?

        public init(
            name: String, routes: [RoutePattern] = [], routesLine: Int? = nil, variables: [String: String] = [:],
            line: Int? = nil
        ) {
            self.name = name
            self.routes = routes
            self.routesLine = routesLine
            self.variables = variables
            self.line = line
        }
    }

    /// Instance settings for a server: `[servers]` defaults, overridden by `[servers.<name>]`.
    public struct ServerSettings: Hashable, Sendable {
        public static let defaultInstances = 0
        public static let defaultPort = 80
        public static let defaultIdleTimeout = 300

        /// 0 means on demand (scale to zero); N keeps N always running.
        public var instances: Int
        public var port: Int
        /// Seconds an instance above the minimum may stay idle before it is stopped.
        public var idleTimeout: Int

        public init(
            instances: Int = defaultInstances, port: Int = defaultPort, idleTimeout: Int = defaultIdleTimeout
        ) {
            self.instances = instances
            self.port = port
            self.idleTimeout = idleTimeout
        }
    }

    /// A `[servers.<name>]` table: which environment a server from the inventory serves.
    public struct ServerMapping: Sendable {
        public var name: String
        public var environment: String
        public var settings: ServerSettings
        public var line: Int?
    }

    /// `[tako] name`, when the file sets it.
    public var name: String?
    public var nameLine: Int?
    public var build: String?
    public var start: String?
    public var dev: String?
    public var healthCheck: String?
    /// `[vars]`: every environment.
    public var variables: [String: String] = [:]
    /// `[vars.<env>]`: one environment, over `[vars]`.
    public var environmentVariables: [String: [String: String]] = [:]
    /// `[envs.<env>]` in file order.
    public var environments: [Environment] = []
    /// `[servers]`: defaults for every mapped server.
    public var serverDefaults = ServerSettings()
    /// `[servers.<name>]` in file order.
    public var servers: [ServerMapping] = []

    public init() {}

    public func environment(named name: String) -> Environment? {
        environments.first { $0.name == name }
    }

    /// The servers mapped to `environment`, in file order.
    public func servers(for environment: String) -> [ServerMapping] {
        servers.filter { $0.environment == environment }
    }

    /// The environment only `tako dev` uses; it is never deployed.
    public static let developmentEnvironment = "development"
    public static let defaultDeployEnvironment = "production"
    public static let fileName = "tako.toml"
}
