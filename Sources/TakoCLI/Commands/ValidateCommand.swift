import ArgumentParser
import Foundation
import TakoCore

/// `tako validate`: checks tako.toml and shows what Tako will use.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check tako.toml and show the app, routes, servers and variables Tako will use."
    )

    @OptionGroup var globals: GlobalOptions

    @Option(name: .long, help: "Show only this environment.")
    var env: String?

    @Flag(help: "Print JSON on stdout.")
    var json = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    struct Report: Encodable {
        struct Server: Encodable {
            var name: String
            var instances: Int
            var port: Int
            var idleTimeout: Int
            var inInventory: Bool

            enum CodingKeys: String, CodingKey {
                case name, instances, port
                case idleTimeout = "idle_timeout"
                case inInventory = "in_inventory"
            }
        }

        struct Environment: Encodable {
            var name: String
            var routes: [String]
            var servers: [Server]
            var variables: [String: String]
            var secrets: [String]
        }

        var app: String
        var appSource: String
        var environments: [Environment]
        var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case app, environments, warnings
            case appSource = "app_source"
        }
    }

    func run() async throws {
        let context = CommandContext(globals)
        let project = try context.loadProject(context.directory(directory))
        var warnings = project.warnings.map(\.message)
        let inventory = try? ServerInventory.load(home: context.home)
        let secrets = try SecretsFile.load(projectDirectory: project.directory)

        var environments = project.config.environments
        if !environments.contains(where: { $0.name == TakoConfig.developmentEnvironment }) {
            environments.append(.init(name: TakoConfig.developmentEnvironment))
        }
        if let env {
            environments = environments.filter { $0.name == env }
            if environments.isEmpty {
                throw CLIError("tako.toml has no [envs.\(env)].", hint: "Known environments: \(project.config.environments.map(\.name).joined(separator: ", ")).")
            }
        }

        var report = Report(app: project.appName, appSource: project.appNameSource.description, environments: [], warnings: [])
        for environment in environments {
            let isDevelopment = environment.name == TakoConfig.developmentEnvironment
            let routes = isDevelopment ? project.developmentRoutes : environment.routes
            let servers = project.config.servers(for: environment.name).map { mapping in
                Report.Server(
                    name: mapping.name, instances: mapping.settings.instances, port: mapping.settings.port,
                    idleTimeout: mapping.settings.idleTimeout, inInventory: inventory?.server(named: mapping.name) != nil)
            }
            for server in servers where !server.inInventory {
                let message = "tako.toml maps server '\(server.name)' to \(environment.name), but it is not in your inventory"
                warnings.append(message)
                context.terminal.warning(message + ".", hint: "Add it with 'tako servers add <host> --name \(server.name)' before deploying.")
            }
            var variables = project.config.userVariables(for: environment.name)
            variables["ENV"] = environment.name
            variables["TAKO_APP_NAME"] = project.appName
            report.environments.append(
                .init(
                    name: environment.name, routes: routes.map(\.description), servers: servers, variables: variables,
                    secrets: secrets.names(in: environment.name).sorted()))
        }
        report.warnings = warnings
        let secretErrors = checkSecrets(secrets, environments: report.environments.map(\.name), context: context)

        if json {
            context.terminal.data(JSONOutput.encode(report))
        } else {
            context.terminal.data(render(report))
        }
        if secretErrors > 0 { throw CommandFailure() }
    }

    /// Each environment's secrets must open with this machine's key; a missing key is only a
    /// warning here (a teammate may deploy), a key that does not open them is an error.
    private func checkSecrets(_ secrets: SecretsFile, environments: [String], context: CommandContext) -> Int {
        let keys = KeyStore(home: context.home)
        var errors = 0
        for environment in environments where !secrets.names(in: environment).isEmpty {
            do {
                guard let key = try keys.load(environment: environment) else {
                    context.terminal.warning(
                        "There is no \(environment) key on this machine, so its secrets cannot be checked or deployed from here.",
                        hint: "Import it with 'tako secrets key import --env \(environment)'.")
                    continue
                }
                _ = try secrets.decryptAll(environment: environment, key: key)
            } catch {
                context.terminal.error(error.message, hint: error.hint)
                errors += 1
            }
        }
        return errors
    }

    private func render(_ report: Report) -> String {
        var lines = ["app: \(report.app) (from \(report.appSource))"]
        for environment in report.environments {
            let isDevelopment = environment.name == TakoConfig.developmentEnvironment
            lines.append("")
            lines.append("[\(environment.name)]\(isDevelopment ? " (tako dev)" : "")")
            lines.append("  routes:    " + (environment.routes.isEmpty ? "none" : environment.routes.joined(separator: ", ")))
            if !isDevelopment {
                let servers = environment.servers.map {
                    "\($0.name) (instances \($0.instances), port \($0.port), idle \($0.idleTimeout)s)"
                        + ($0.inInventory ? "" : " [not in inventory]")
                }
                lines.append("  servers:   " + (servers.isEmpty ? "none mapped" : servers.joined(separator: ", ")))
            }
            lines.append(environment.variables.isEmpty ? "  variables: none" : "  variables:")
            for (name, value) in environment.variables.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(name)=\(value)")
            }
            lines.append("  secrets:   " + (environment.secrets.isEmpty ? "none" : environment.secrets.joined(separator: ", ")))
        }
        return lines.joined(separator: "\n")
    }
}
