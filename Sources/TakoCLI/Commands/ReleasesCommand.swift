import ArgumentParser
import Foundation
import TakoCore

/// `tako releases`: the releases each server of an environment keeps for the app (the newest
/// ten), newest first, with the one running marked.
struct ReleasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "releases", abstract: "List the releases each server keeps for the app.")

    @OptionGroup var globals: GlobalOptions

    @Option(help: "The environment.")
    var env = TakoConfig.defaultDeployEnvironment

    @Flag(help: "Print JSON on stdout.")
    var json = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        let project = try context.loadProject(context.directory(directory))
        let servers = try EnvironmentServers.resolve(project: project, environment: env, context: context).map(\.server)
        let app = project.appName
        let outcomes = await EnvironmentServers.each(servers) { server -> ReleaseList in
            let result = try await server.transport.ctl(server.entry, ["releases", app])
            guard let list = try? JSONDecoder().decode(ReleaseList.self, from: result.stdout) else {
                throw UserError("\(server.name) gave a release list this tako cannot read", hint: "check tako servers status")
            }
            return list
        }
        if json {
            struct Entry: Encodable { var server: String; var releases: [ReleaseList.Release]?; var error: String? }
            let entries = servers.map { server -> Entry in
                switch outcomes[server.name] {
                case .success(let list): Entry(server: server.name, releases: list.releases)
                case .failure(let error): Entry(server: server.name, error: error.message)
                case nil: Entry(server: server.name)
                }
            }
            context.terminal.data(JSONOutput.encode(entries))
        } else {
            let local = Date.FormatStyle(date: .numeric, time: .shortened)
            EnvironmentServers.report(outcomes, for: servers, terminal: context.terminal) { server, list in
                let rows = list.releases.map { [$0.version, $0.createdAt?.formatted(local) ?? "", $0.current ? "current" : ""] }
                context.terminal.data(context.terminal.paint(server, .bold))
                context.terminal.data(Table(headers: ["VERSION", "CREATED", ""], rows: rows).render())
            }
        }
        if outcomes.values.contains(where: { if case .failure = $0 { true } else { false } }) { throw CommandFailure() }
    }
}

/// `tako rollback [VERSION]`: every server of the environment runs a kept release again, the
/// one before the current (or VERSION), with the same rolling update as a deploy — nothing
/// is rebuilt or uploaded.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Run the previous (or a named) kept release again on every server.")

    @OptionGroup var globals: GlobalOptions

    @Argument(help: "The release to run (default: the one before the current release).")
    var version: String?

    @Option(help: "The environment.")
    var env = TakoConfig.defaultDeployEnvironment

    @Flag(name: [.short, .long], help: "Do not ask for confirmation (required for production without a terminal).")
    var yes = false

    @Option(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        if let version, !ReleaseVersion.isValid(version) {
            throw CLIError("'\(version)' is not a release version.", hint: "tako releases lists the kept ones.")
        }
        let project = try context.loadProject(context.directory(directory))
        let servers = try EnvironmentServers.resolve(project: project, environment: env, context: context).map(\.server)
        let app = project.appName
        if env == TakoConfig.defaultDeployEnvironment && !yes {
            guard try context.terminal.confirmOrRequireYes(
                "Roll \(app) back to \(version ?? "the previous release") on production?",
                action: "Rolling back production", verb: "roll back", declined: "Nothing changed.")
            else { return }
        }
        let outcomes = await EnvironmentServers.each(servers) { server -> AppStatus in
            let result = try await server.transport.ctl(server.entry, ["rollback", app] + (version.map { ["--version", $0] } ?? []))
            guard let status = try? JSONDecoder().decode(AppStatus.self, from: result.stdout) else {
                throw UserError("\(server.name) gave an answer this tako cannot read", hint: "check tako servers status")
            }
            return status
        }
        let failed = EnvironmentServers.report(outcomes, for: servers, terminal: context.terminal) { server, status in
            context.terminal.success(EnvironmentServers.summary(status, server: server, app: app))
        }
        if failed > 0 { throw CommandFailure() }
    }
}
