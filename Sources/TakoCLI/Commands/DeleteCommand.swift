import ArgumentParser
import Foundation
import TakoCore

/// `tako delete`: removes the app from every server of an environment: instances, routes,
/// releases, logs and secrets. A server where the app is not deployed counts as done, so the
/// command can be repeated until every server has answered.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove the app from every server of an environment.")

    @OptionGroup var globals: GlobalOptions

    @Option(help: "The environment to remove the app from.")
    var env = TakoConfig.defaultDeployEnvironment

    @Flag(name: [.short, .long], help: "Do not ask for confirmation (required without a terminal).")
    var yes = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        let project = try context.loadProject(context.directory(directory))
        let servers = try EnvironmentServers.resolve(project: project, environment: env, context: context).map(\.server)
        let app = project.appName
        let names = servers.map(\.name).joined(separator: ", ")
        if !yes {
            guard try context.terminal.confirmOrRequireYes(
                "Delete \(app) and its releases, logs and secrets from \(env) (\(names))?",
                action: "Deleting \(app) from \(env)", verb: "delete", declined: "Nothing deleted.")
            else { return }
        }
        let outcomes = await EnvironmentServers.each(servers) { server -> Bool in
            do {
                _ = try await server.transport.ctl(server.entry, ["delete", app])
                return true
            } catch let error as UserError where error.message.contains("no app named") {
                return false
            }
        }
        let failed = EnvironmentServers.report(outcomes, for: servers, terminal: context.terminal) { server, deleted in
            context.terminal.success(deleted ? "\(server): deleted \(app)" : "\(server): \(app) was not deployed there")
        }
        if failed > 0 { throw CommandFailure() }
    }
}
