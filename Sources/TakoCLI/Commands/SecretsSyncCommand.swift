import ArgumentParser
import Foundation
import TakoCore

extension SecretsCommand {
    /// `tako secrets sync`: sends an environment's secrets to its servers now, without a
    /// deploy; each server restarts the app's instances one at a time with the new values.
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Send an environment's secrets to its servers (a rolling restart picks them up).")

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var environment: EnvironmentOption

        @Argument(help: "The project directory (default: the current directory).")
        var directory: String?

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let env = environment.env
            let project = try context.loadProject(context.directory(directory))
            let servers = try EnvironmentServers.resolve(project: project, environment: env, context: context).map(\.server)
            let secrets = try DeployPlan.secrets(project: project, environment: env, home: context.home)
            let payload = (try? JSONEncoder().encode(secrets)) ?? Data("{}".utf8)
            let app = project.appName
            let outcomes = await EnvironmentServers.each(servers) { server in
                _ = try await server.transport.ctl(server.entry, ["update-secrets", app], input: .bytes(payload))
            }
            let failed = EnvironmentServers.report(outcomes, for: servers, terminal: context.terminal) { server, _ in
                context.terminal.success("\(server): \(secrets.count) secrets sent; \(app) restarted with them")
            }
            if failed > 0 { throw CommandFailure() }
        }
    }
}
