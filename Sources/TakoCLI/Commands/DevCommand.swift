import ArgumentParser
import Foundation
import TakoCore

/// `tako dev`: runs the project's app locally behind trusted HTTPS at
/// `https://{app}.tako.local:47831`, through the tako-dev-server daemon (started when it is
/// not running). The first `tako dev` in a project owns the app; a second one attaches to it.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the app locally with trusted HTTPS at https://{app}.tako.local:47831.",
        discussion: """
            Starts tako-dev-server when it is not running, registers the app and follows its log. \
            On a terminal a dashboard shows the app's state, URL, CPU, RAM and log (q quits, r restarts, \
            c clears, e jumps to the end). Edits to tako.toml apply at once: changed variables restart \
            the app, changed routes re-route it. When tako dev exits the app stays a short while, so \
            running it again finds it.
            """)

    @OptionGroup var globals: GlobalOptions

    @Flag(help: "Print the log lines plainly instead of the dashboard.")
    var noTui = false

    @Flag(help: "Stop tako-dev-server and every dev app, then exit.")
    var stopDaemon = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        let terminal = context.terminal
        if stopDaemon {
            let client = DevClient(home: context.home)
            guard (try? client.hello()) != nil else {
                terminal.say("tako-dev-server is not running.")
                return
            }
            try client.shutdown()
            terminal.success("tako-dev-server stopped.")
            return
        }
        let projectDirectory = context.directory(directory)
        let project = try context.loadProject(projectDirectory)
        let config = try Self.appConfig(project)
        let key = ProjectLock.key(app: project.appName, directory: projectDirectory)
        let daemon = try await DevDaemonLauncher.ensureRunning(home: context.home, environment: context.environment, terminal: terminal)
        if daemon.version != TakoVersion.current {
            terminal.warning(
                "tako-dev-server \(daemon.version) is running; this tako is \(TakoVersion.current).",
                hint: "Restart it to use the new one: tako dev --stop-daemon, then tako dev.")
        }
        let lock = try ProjectLock.claim(home: context.home, key: key)
        let session = DevSession(
            context: context, client: DevClient(home: context.home), daemon: daemon, project: project, config: config,
            key: key, owner: lock != nil, dashboard: !noTui && terminal.stdoutIsTerminal && terminal.stdinIsTerminal)
        try await session.run()
        withExtendedLifetime(lock) {}
    }

    /// What the daemon is told about the project: the development routes (exact hosts only),
    /// the dev command and the development variables.
    static func appConfig(_ project: TakoProject) throws -> DevAppConfig {
        let routes = project.developmentRoutes
        let listed = project.config.environment(named: TakoConfig.developmentEnvironment)?.routes ?? []
        // Listed routes that are all wildcards leave nothing to serve (developmentRoutes falls
        // back to {app}.tako.local only when none are listed).
        guard !routes.isEmpty, listed.isEmpty || routes.contains(where: { listed.contains($0) }) else {
            throw CLIError(
                "No development route is left for '\(project.appName)': tako dev serves exact hosts only and ignores wildcards.",
                hint: "Add \(project.appName).tako.local to [envs.development] routes, or remove the list.")
        }
        let home = "\(project.appName).tako.local"
        for route in routes where route.hostName != home && !route.hostName.hasSuffix("." + home) {
            throw CLIError(
                "The development route '\(route)' is not \(home) or a subdomain of it.",
                hint: "tako dev serves names under \(home) only; fix [envs.development] routes in tako.toml.")
        }
        return DevAppConfig(
            name: project.appName, directory: project.directory.standardizedFileURL.path,
            routes: routes.map(\.description), command: project.config.dev,
            vars: project.config.userVariables(for: TakoConfig.developmentEnvironment))
    }
}
