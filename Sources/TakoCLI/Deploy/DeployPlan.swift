import Foundation
import TakoCore

/// Everything `tako deploy` checks before it builds anything: the environment, its routes and
/// servers, every secret it uses (present and decryptable), and the version name.
struct DeployPlan: Sendable {
    var appName: String
    var environment: String
    var version: String
    var servers: [RemoteServer]
    /// The request for each server, by name (instances and idle timeout are per server).
    var requests: [String: DeployRequest]
    var secrets: [String: String]
    /// Recorded in each host's deploy lock: who deploys.
    var holder: String

    static func make(project: TakoProject, environment: String, context: CommandContext) throws -> DeployPlan {
        let config = project.config
        guard environment != TakoConfig.developmentEnvironment else {
            throw CLIError("The development environment is not deployed.", hint: "Use tako dev for development; deploy another environment with --env.")
        }
        let resolved = try EnvironmentServers.resolve(project: project, environment: environment, context: context)
        guard let env = config.environment(named: environment), !env.routes.isEmpty else {
            throw CLIError("[envs.\(environment)] has no route.", hint: "Add route = \"app.example.com\" to [envs.\(environment)] in tako.toml.")
        }
        let version = try ReleaseVersion.derive(projectDirectory: project.directory)
        var requests: [String: DeployRequest] = [:]
        for (server, mapping) in resolved {
            requests[server.name] = DeployRequest(
                app: project.appName, version: version, env: environment, releasePath: "",
                routes: env.routes.map(\.description), instances: mapping.settings.instances,
                idleTimeoutSecs: mapping.settings.idleTimeout, start: config.start, healthCheck: config.healthCheck,
                vars: config.userVariables(for: environment))
        }
        let servers = resolved.map(\.server)
        let secrets = try Self.secrets(project: project, environment: environment, home: context.home)
        let user = context.environment["USER"] ?? "someone"
        let host = ProcessInfo.processInfo.hostName
        return DeployPlan(
            appName: project.appName, environment: environment, version: version, servers: servers, requests: requests,
            secrets: secrets, holder: "\(user)@\(host)")
    }

    /// The environment's secrets, decrypted (they travel inside the SSH connection only).
    static func secrets(project: TakoProject, environment: String, home: TakoHome) throws -> [String: String] {
        let file = try SecretsFile.load(projectDirectory: project.directory)
        guard !file.names(in: environment).isEmpty else { return [:] }
        guard let key = try KeyStore(home: home).load(environment: environment) else {
            throw CLIError(
                "The \(environment) secrets cannot be decrypted: there is no key for \(environment) on this machine.",
                hint: "Import it from a teammate: tako secrets key import --env \(environment)")
        }
        return try file.decryptAll(environment: environment, key: key)
    }

    /// One server's deploy: check tako-server, upload and roll out, reporting each step.
    func deploy(to server: RemoteServer, release: BuiltRelease, board: ProgressBoard) async throws(UserError) -> AppStatus {
        guard let request = requests[server.name] else { throw UserError("internal: no request for \(server.name)") }
        board.step(server.name, "connecting")
        let hello = try await server.hello()
        board.step(server.name, "uploading \(DeployCommand.size(release.size)) to tako-server \(hello.serverVersion)")
        let name = server.name
        let total = release.size
        let status = try await server.ship(request, archive: release, holder: holder, secrets: secrets) { sent in
            board.upload(name, sent: sent, total: total)
            if sent == total { board.step(name, "rolling out (one instance at a time)") }
        }
        board.step(server.name, "done")
        return status
    }
}
