import ArgumentParser
import Foundation
import TakoCore

/// `tako deploy`: builds the app once and rolls it out to every server of an environment in
/// parallel. Each server is independent: one failing does not stop the others, and the end
/// reports every server's outcome (exit status 1 when any failed).
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Build the app and roll it out to every server of an environment.",
        discussion: """
            Builds in .tako/build/, uploads the archive to each server mapped to the environment \
            in tako.toml ([servers.<name>] env = "..."), and replaces the running instances one \
            at a time. Secrets of the environment are sent along, encrypted in transit by SSH.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Option(help: "The environment to deploy (not development).")
    var env = TakoConfig.defaultDeployEnvironment

    @Flag(name: [.short, .long], help: "Do not ask for confirmation (required for production without a terminal).")
    var yes = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        var project = try context.loadProject(context.directory(directory))
        if project.config.servers(for: env).isEmpty, env != TakoConfig.developmentEnvironment,
            context.terminal.isInteractive, try ServerMapping.offer(project: project, environment: env, context: context)
        {
            project = try context.loadProject(project.directory)
        }
        let plan = try DeployPlan.make(project: project, environment: env, context: context)

        if env == TakoConfig.defaultDeployEnvironment && !yes {
            let names = plan.servers.map(\.name).joined(separator: ", ")
            guard try context.terminal.confirmOrRequireYes(
                "Deploy \(project.appName) \(plan.version) to production (\(names))?",
                action: "Deploying to production", verb: "deploy", declined: "Nothing deployed.")
            else { return }
        }

        context.terminal.say("Deploying \(project.appName) \(plan.version) to \(env): \(plan.servers.map(\.name).joined(separator: ", "))")
        let release = try await ReleaseBuilder(project: project, version: plan.version, environment: env, terminal: context.terminal).build()
        context.terminal.say("Built \(release.path.lastPathComponent) (\(Self.size(release.size)))")

        let terminal = context.terminal
        let board = ProgressBoard(terminal: terminal, names: plan.servers.map(\.name))
        let ticker = Task {
            while board.isLive, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                board.tick()
            }
        }
        defer { ticker.cancel() }
        let outcomes = await EnvironmentServers.each(plan.servers) { server in
            do {
                return try await plan.deploy(to: server, release: release, board: board)
            } catch {
                board.step(server.name, "failed")
                throw error
            }
        }
        ticker.cancel()
        board.finish()

        let failed = EnvironmentServers.report(outcomes, for: plan.servers, terminal: terminal) { server, status in
            terminal.success(EnvironmentServers.summary(status, server: server, app: project.appName))
            for notice in status.notices ?? [] { terminal.warning("\(server): \(notice)") }
        }
        if failed > 0 {
            if failed == plan.servers.count {
                terminal.say("The deploy failed everywhere; every server kept its previous release.")
            } else {
                terminal.say("\(failed) of \(plan.servers.count) servers failed (they kept their previous release); the others run \(plan.version).")
            }
            throw CommandFailure()
        }
    }

    static func size(_ bytes: Int64) -> String {
        bytes < 1 << 20 ? String(format: "%.1f KB", Double(bytes) / 1000) : String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
