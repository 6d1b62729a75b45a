import ArgumentParser
import Foundation
import TakoCore

extension SecretsCommand {
    /// `tako secrets key`: move an environment's key between machines.
    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Import or export an environment's secrets key.",
            subcommands: [Import.self, Export.self]
        )
    }
}

extension SecretsCommand.Key {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import an environment's key (masked prompt, or one line from stdin)."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var environment: EnvironmentOption

        @Flag(help: "Replace an existing key, even one that does not open the stored secrets.")
        var force = false

        func run() async throws {
            let env = try environment.validated()
            let context = CommandContext(globals)
            try context.ensureHome()
            let keys = KeyStore(home: context.home)
            guard let text = context.terminal.readSecret(prompt: "Key for \(env) (base64): ") else {
                throw CLIError("No key given; nothing was imported.", hint: "Paste the output of 'tako secrets key export --env \(env)'.")
            }
            let key = try SecretKey(base64: text)
            if let existing = try keys.load(environment: env) {
                if existing == key {
                    context.terminal.success("The \(env) key is already this one; nothing changed.")
                    return
                }
                if !force {
                    guard context.terminal.isInteractive,
                        context.terminal.confirm("A different key for \(env) exists. Replace it?")
                    else {
                        throw CLIError("A different key for \(env) already exists.", hint: "Pass --force to replace it.")
                    }
                }
            }
            // When this is a project with secrets, the key must open them.
            let directory = context.currentDirectory
            if !force, FileManager.default.fileExists(atPath: SecretsFile.location(projectDirectory: directory).path) {
                let file = try SecretsFile.load(projectDirectory: directory)
                _ = try file.decryptAll(environment: env, key: key)
            }
            try keys.save(key, environment: env)
            context.terminal.success("Imported the \(env) key to \(context.home.keyFile(environment: env).path).")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Print an environment's key (base64) on stdout."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var environment: EnvironmentOption

        func run() async throws {
            let env = try environment.validated()
            let context = CommandContext(globals)
            guard let key = try KeyStore(home: context.home).load(environment: env) else {
                throw CLIError(
                    "There is no key for \(env) in \(context.home.keysDirectory.path).",
                    hint: "Import it with 'tako secrets key import --env \(env)', or create one with 'tako secrets set --env \(env) NAME'.")
            }
            context.terminal.warning("This key decrypts every \(env) secret: share it only over a safe channel.")
            context.terminal.data(key.base64)
        }
    }
}
