import ArgumentParser
import Foundation
import TakoCore

/// `tako init`: writes a commented tako.toml.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a commented tako.toml in the project directory."
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(help: "Overwrite an existing tako.toml without asking.")
    var force = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        let projectDirectory = context.directory(directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: projectDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError("\(projectDirectory.path) is not a directory.", hint: "Create it first, or pass your project's directory.")
        }
        let file = projectDirectory.appendingPathComponent(TakoConfig.fileName)
        if FileManager.default.fileExists(atPath: file.path) && !force {
            guard context.terminal.isInteractive else {
                throw CLIError("\(file.path) already exists.", hint: "Pass --force to overwrite it.")
            }
            guard context.terminal.confirm("\(file.path) already exists. Overwrite it?") else {
                context.terminal.say("Left tako.toml as it was.")
                return
            }
        }
        let detected = AppNameDetector.detect(in: projectDirectory)
        let name = detected?.name ?? "my-app"
        try AtomicFile.write(InitTemplate.render(appName: name), to: file)
        context.terminal.success("Wrote \(file.path)")
        if detected == nil {
            context.terminal.warning(
                "Could not derive an app name from the project.", hint: "Set [tako] name in tako.toml before deploying.")
        }
        context.terminal.say("Next: set your domain in [envs.production], then 'tako validate'.")
    }
}

/// The tako.toml that `tako init` writes: one live line, every other option shown and explained.
enum InitTemplate {
    static func render(appName: String) -> String {
        """
        # tako.toml: how Tako builds, runs and routes this app.
        # Every option is shown below; uncomment what you need. `tako validate` checks the file.

        # [tako]
        # The app's name: lower-case letters, digits and '-', starting with a letter, at most
        # 63 characters. It must not change after the first deploy. Default: detected from
        # package.json, Package.swift, pyproject.toml or go.mod, else the directory name.
        # name = "\(appName)"
        #
        # Runs on your machine before the release is packed, in a copy of the project.
        # build = "bun run build"
        #
        # How the server starts the app. It gets PORT and HOST to listen on. Default: detected
        # for Bun, Node, Deno and Python projects.
        # start = "bun run server.ts"
        #
        # What `tako dev` runs. Default: the runtime's dev script, else `start`.
        # dev = "bun run --watch server.ts"
        #
        # The path Tako probes for health. Default: /_tako/status, where a 404 still proves
        # the app serves HTTP; a path you set here must answer 2xx or 3xx.
        # health_check = "/healthz"

        # Environment variables for every environment...
        # [vars]
        # LOG_LEVEL = "info"
        #
        # ...and for one environment, over [vars].
        # [vars.production]
        # LOG_LEVEL = "warn"

        # Each environment's routes: `host`, `*.host`, `host/path/*` or `*.host/path/*`.
        # Use `route` for one or `routes = ["a.example.com", "b.example.com"]` for several,
        # never both. Other keys in the table are environment variables.
        [envs.production]
        route = "\(appName).example.com"

        # [envs.staging]
        # route = "staging.\(appName).example.com"

        # `tako dev` serves https://\(appName).tako.local by default; development routes must be
        # \(appName).tako.local or a subdomain of it.
        # [envs.development]
        # routes = ["\(appName).tako.local", "api.\(appName).tako.local"]

        # Defaults for every server this app is deployed to.
        # [servers]
        # instances = 0        # 0 = start on the first request, stop when idle; N = always N
        # port = 80
        # idle_timeout = 300   # seconds before an idle instance above the minimum stops
        #
        # Map a server from `tako servers ls` to an environment (and override the defaults).
        # [servers.la]
        # env = "production"
        # instances = 2

        # Secrets are not kept here: `tako secrets set NAME` stores them encrypted in .tako/secrets.
        # Reference: https://tako.sh/docs/tako-toml-reference

        """
    }
}
