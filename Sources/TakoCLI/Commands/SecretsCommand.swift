import ArgumentParser
import Foundation
import TakoCore

/// `tako secrets`: encrypted values in `.tako/secrets`, one key per environment in `~/.tako/keys`.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage encrypted secrets (stored in .tako/secrets, keys in ~/.tako/keys).",
        subcommands: [Set.self, Remove.self, List.self, Sync.self, Key.self]
    )
}

/// `--env`, defaulting to production, shared by the secrets commands.
struct EnvironmentOption: ParsableArguments {
    @Option(name: .long, help: "The environment (default: production).")
    var env: String = TakoConfig.defaultDeployEnvironment

    func validated() throws -> String {
        if let problem = AppName.problem(with: env) {
            throw CLIError("Environment name '\(env)' \(problem).", hint: "Use the name of an [envs.<name>] table, e.g. --env staging.")
        }
        return env
    }
}

/// What every secrets command works on: the project, its secrets file and the user's keys.
struct SecretsWorkspace {
    let context: CommandContext
    let project: TakoProject
    var file: SecretsFile
    let keys: KeyStore

    init(_ context: CommandContext) throws {
        self.context = context
        try context.ensureHome()
        project = try context.loadProject(context.currentDirectory)
        file = try SecretsFile.load(projectDirectory: project.directory)
        keys = KeyStore(home: context.home)
    }

    /// Environments worth showing: those with secrets, then the configured deployable ones.
    var environments: [String] {
        var names = file.environments
        for environment in project.config.environments where !names.contains(environment.name) {
            names.append(environment.name)
        }
        return names
    }

    /// Warns when tako.toml does not know `environment` (a typo would otherwise go unnoticed).
    func warnIfUnknown(_ environment: String) {
        guard environment != TakoConfig.developmentEnvironment,
            project.config.environment(named: environment) == nil
        else { return }
        context.terminal.warning(
            "tako.toml has no [envs.\(environment)].", hint: "Check the --env spelling, or add the environment to tako.toml.")
    }

    /// The edge case of a deleted `.tako/secrets`: keys exist but the file is gone.
    func warnIfSecretsFileMissing() {
        guard !FileManager.default.fileExists(atPath: SecretsFile.location(projectDirectory: project.directory).path) else { return }
        let environments = environments.filter { (try? keys.exists(environment: $0)) == true }
        guard !environments.isEmpty else { return }
        context.terminal.warning(
            ".tako/secrets is missing, but you have keys for \(environments.joined(separator: ", ")).",
            hint: "Restore .tako/secrets from version control or a backup; 'tako secrets set' starts a new file.")
    }
}

extension SecretsCommand {
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set a secret (read with a masked prompt, or one line from stdin)."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var environment: EnvironmentOption

        @Argument(help: "The secret's name, as the app reads it from its environment.")
        var name: String

        func run() async throws {
            let env = try environment.validated()
            var workspace = try SecretsWorkspace(CommandContext(globals))
            let terminal = workspace.context.terminal
            try SecretsFile.validateName(name)
            workspace.warnIfUnknown(env)
            workspace.warnIfSecretsFileMissing()
            guard let value = terminal.readSecret(prompt: "Value for \(name) (\(env)): "), !value.isEmpty else {
                throw CLIError("No value given for \(name); nothing was saved.", hint: "Type the value at the prompt, or pipe it: echo \"$VALUE\" | tako secrets set \(name)")
            }
            let existed = try workspace.keys.exists(environment: env)
            let key = try workspace.keys.loadOrCreate(environment: env)
            if !existed {
                terminal.say("Created a new key for \(env) at \(workspace.context.home.keyFile(environment: env).path).")
                terminal.say("Share it with your team with 'tako secrets key export --env \(env)'.")
            }
            // A key that cannot open the values already stored would leave a file no key can read.
            _ = try workspace.file.decryptAll(environment: env, key: key)
            try workspace.file.set(name, sealedValue: SecretBox.seal(value, key: key), environment: env)
            try workspace.file.save(to: workspace.project.directory)
            terminal.success("Set \(name) for \(env).")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove a secret (from every environment unless --env is given).",
            aliases: ["remove", "delete"]
        )

        @OptionGroup var globals: GlobalOptions

        @Option(name: .long, help: "Remove it from this environment only.")
        var env: String?

        @Argument(help: "The secret's name.")
        var name: String

        func run() async throws {
            var workspace = try SecretsWorkspace(CommandContext(globals))
            let removed = workspace.file.remove(name, environment: env)
            guard removed else {
                throw CLIError(
                    "There is no secret '\(name)'\(env.map { " in \($0)" } ?? "").", hint: "See what there is with 'tako secrets ls'.")
            }
            try workspace.file.save(to: workspace.project.directory)
            workspace.context.terminal.success("Removed \(name) from \(env ?? "every environment").")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "Show which secrets each environment has (never their values).",
            aliases: ["list"]
        )

        @OptionGroup var globals: GlobalOptions

        @Flag(help: "Print JSON on stdout.")
        var json = false

        struct Row: Encodable {
            var name: String
            var environments: [String]
            var missing: [String]
        }

        func run() async throws {
            let workspace = try SecretsWorkspace(CommandContext(globals))
            let terminal = workspace.context.terminal
            workspace.warnIfSecretsFileMissing()
            let environments = workspace.environments.filter { $0 != TakoConfig.developmentEnvironment || !workspace.file.names(in: $0).isEmpty }
            let names = Array(Swift.Set(workspace.file.environments.flatMap { workspace.file.names(in: $0) })).sorted()
            let rows = names.map { name in
                let present = environments.filter { workspace.file.names(in: $0).contains(name) }
                return Row(name: name, environments: present, missing: environments.filter { !present.contains($0) })
            }
            if json {
                struct Output: Encodable { var environments: [String]; var secrets: [Row] }
                terminal.data(JSONOutput.encode(Output(environments: environments, secrets: rows)))
                return
            }
            guard !rows.isEmpty else {
                terminal.say("No secrets yet. Add one with: tako secrets set NAME [--env ENV]")
                return
            }
            let table = Table(
                headers: ["NAME"] + environments,
                rows: rows.map { row in [row.name] + environments.map { row.environments.contains($0) ? "✓" : "-" } })
            terminal.data(table.render())
            for row in rows where !row.missing.isEmpty {
                terminal.warning("\(row.name) is missing in \(row.missing.joined(separator: ", ")).")
            }
        }
    }
}
