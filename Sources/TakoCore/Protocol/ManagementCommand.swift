/// One request to the host daemon, tagged by `"command"` (snake_case) with its fields
/// beside the tag, not nested: `{"command":"stop","app":"web"}`.
///
/// A flat shape is what a script, `jq` or a client in another language writes most
/// naturally, and it matches the original Tako protocol. ``ManagementRequest`` adds
/// `protocol_version` beside them. Coding is written by hand so the wire names are
/// explicit here and an unknown command is a clear error rather than a generic one.
public enum ManagementCommand: Codable, Hashable, Sendable {
    /// Handshake: the server answers with ``HelloInfo``.
    case hello
    /// The server's configuration and mode: ``ServerInfo``.
    case serverInfo
    /// Roll out a release; answers with the app's ``AppStatus`` once the rollout finished.
    case deploy(DeployRequest)
    /// The route table: ``RouteList``.
    case routes
    /// One app's status, or every app's when `app` is nil: ``StatusReport``.
    case status(app: String?)
    /// An app's recent log lines; with `follow`, keeps streaming until the client closes.
    /// (The shape of the streamed line frames belongs to the log-streaming feature.)
    case logs(app: String, follow: Bool, lines: Int)
    /// Stop an app's instances, keeping its release and routes. This and the other
    /// commands without a documented payload answer ``EmptyPayload``.
    case stop(app: String)
    /// Remove an app: instances, routes, releases and secrets.
    case delete(app: String)
    /// Replace an app's secrets (plaintext over the local socket; encrypted at rest).
    case updateSecrets(app: String, secrets: [String: String])
    /// Restart an app's instances with the current release (rolling).
    case reload(app: String)
    /// Take the upgrade lock: mutating commands are refused until ``exitUpgrading(owner:)``.
    case enterUpgrading(owner: String)
    /// Release the upgrade lock held by `owner`.
    case exitUpgrading(owner: String)
    /// The releases kept on the host for an app, newest first: ``ReleaseList``.
    case releases(app: String)
    /// Roll an app back to a kept release (`version`, or the one before the current) with
    /// the same rolling update as a deploy; answers the app's ``AppStatus``.
    case rollback(app: String, version: String?)
    /// Restart tako-server gracefully: a successor takes over once its apps are healthy
    /// (see docs/server.md); answers ``ServerRestart`` once it serves. With `hard`, a plain
    /// stop and start instead (connections are refused meanwhile): the server answers at
    /// once with its own pid in both fields, then drains, stops and executes itself again.
    case restartServer(hard: Bool)

    /// The number of log lines sent when a `logs` request does not say.
    public static let defaultLogLines = 100

    /// The wire name of the command (`"server_info"`, `"update_secrets"`, ...).
    public var name: String {
        switch self {
        case .hello: "hello"
        case .serverInfo: "server_info"
        case .deploy: "deploy"
        case .routes: "routes"
        case .status: "status"
        case .logs: "logs"
        case .stop: "stop"
        case .delete: "delete"
        case .updateSecrets: "update_secrets"
        case .reload: "reload"
        case .enterUpgrading: "enter_upgrading"
        case .exitUpgrading: "exit_upgrading"
        case .releases: "releases"
        case .rollback: "rollback"
        case .restartServer: "restart_server"
        }
    }

    /// Every command name this side understands, e.g. for `hello` capabilities or help text.
    public static let allNames = [
        "hello", "server_info", "deploy", "routes", "status", "logs", "stop", "delete",
        "update_secrets", "reload", "enter_upgrading", "exit_upgrading", "releases", "rollback", "restart_server",
    ]

    /// Whether the command changes app state; the server refuses these while upgrading
    /// (DESIGN §8).
    public var isMutating: Bool {
        switch self {
        case .deploy, .stop, .delete, .updateSecrets, .reload, .rollback: true
        case .hello, .serverInfo, .routes, .status, .logs, .enterUpgrading, .exitUpgrading, .releases, .restartServer: false
        }
    }

    enum CodingKeys: String, CodingKey {
        case command, app, follow, lines, secrets, owner, version, hard
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .command)
        switch name {
        case "hello":
            self = .hello
        case "server_info":
            self = .serverInfo
        case "deploy":
            self = .deploy(try DeployRequest(from: decoder))
        case "routes":
            self = .routes
        case "restart_server":
            self = .restartServer(hard: try container.decodeIfPresent(Bool.self, forKey: .hard) ?? false)
        case "status":
            self = .status(app: try container.decodeIfPresent(String.self, forKey: .app))
        case "logs":
            self = .logs(
                app: try container.decode(String.self, forKey: .app),
                follow: try container.decodeIfPresent(Bool.self, forKey: .follow) ?? false,
                lines: try container.decodeIfPresent(Int.self, forKey: .lines) ?? Self.defaultLogLines
            )
        case "stop":
            self = .stop(app: try container.decode(String.self, forKey: .app))
        case "delete":
            self = .delete(app: try container.decode(String.self, forKey: .app))
        case "update_secrets":
            self = .updateSecrets(
                app: try container.decode(String.self, forKey: .app),
                secrets: try container.decode([String: String].self, forKey: .secrets)
            )
        case "reload":
            self = .reload(app: try container.decode(String.self, forKey: .app))
        case "enter_upgrading":
            self = .enterUpgrading(owner: try container.decode(String.self, forKey: .owner))
        case "exit_upgrading":
            self = .exitUpgrading(owner: try container.decode(String.self, forKey: .owner))
        case "releases":
            self = .releases(app: try container.decode(String.self, forKey: .app))
        case "rollback":
            self = .rollback(
                app: try container.decode(String.self, forKey: .app),
                version: try container.decodeIfPresent(String.self, forKey: .version))
        default:
            throw ManagementProtocolError.unknownCommand(name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .command)
        switch self {
        case .hello, .serverInfo, .routes:
            break
        case .restartServer(let hard):
            if hard { try container.encode(true, forKey: .hard) }
        case .deploy(let request):
            // Same encoder, so the request's fields land beside "command".
            try request.encode(to: encoder)
        case .status(let app):
            try container.encodeIfPresent(app, forKey: .app)
        case .logs(let app, let follow, let lines):
            try container.encode(app, forKey: .app)
            try container.encode(follow, forKey: .follow)
            try container.encode(lines, forKey: .lines)
        case .stop(let app), .delete(let app), .reload(let app), .releases(let app):
            try container.encode(app, forKey: .app)
        case .rollback(let app, let version):
            try container.encode(app, forKey: .app)
            try container.encodeIfPresent(version, forKey: .version)
        case .updateSecrets(let app, let secrets):
            try container.encode(app, forKey: .app)
            try container.encode(secrets, forKey: .secrets)
        case .enterUpgrading(let owner), .exitUpgrading(let owner):
            try container.encode(owner, forKey: .owner)
        }
    }
}
