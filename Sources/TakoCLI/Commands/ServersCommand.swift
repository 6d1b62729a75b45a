import ArgumentParser
import Foundation
import TakoCore

/// `tako servers`: the user's server inventory (`~/.tako/config.toml`).
struct ServersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers",
        abstract: "Manage the servers you deploy to.",
        subcommands: [Add.self, Remove.self, List.self, Status.self, Reload.self, Restart.self, Upgrade.self]
    )
}

extension ServersCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a server to your inventory."
        )

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's host name or IP address.")
        var host: String

        @Option(help: "A short name for the server, used in tako.toml as [servers.<name>].")
        var name: String

        @Option(help: "The SSH port.")
        var port: Int = ServerEntry.defaultPort

        @Option(help: "The SSH user.")
        var user: String = ServerEntry.defaultUser

        @Option(help: "A note shown by 'tako servers ls'.")
        var description: String?

        @Flag(help: "Save the server without connecting to it (for a host not set up yet).")
        var noCheck = false

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            var inventory = try ServerInventory.load(home: context.home)
            let entry = ServerEntry(name: name, host: host, port: port, user: user, description: description)
            switch try inventory.add(entry) {
            case .unchanged:
                context.terminal.success("\(name) is already in your inventory (\(user)@\(host):\(port)); nothing changed.")
                return
            case .added:
                break
            }
            if noCheck {
                context.terminal.warning("The SSH connection and tako-server on \(host) were not checked.", hint: "tako deploy checks them.")
            } else {
                // Nothing is saved until the host answers: SSH works and tako-server is there.
                let transport = SSHTransport(home: context.home, environment: context.environment, interactive: context.terminal.isInteractive)
                let hello = try await RemoteServer(entry: entry, transport: transport).hello()
                context.terminal.say("Connected to \(user)@\(host):\(port): tako-server \(hello.serverVersion)")
            }
            try inventory.save()
            context.terminal.success("Added \(name) (\(user)@\(host):\(port)) to \(inventory.displayName).")
            context.terminal.say("Map it to an environment in tako.toml: [servers.\(name)] env = \"production\"")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove a server from your inventory.",
            aliases: ["remove", "delete"]
        )

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's name.")
        var name: String

        @Flag(name: [.short, .long], help: "Do not ask for confirmation (required without a terminal).")
        var yes = false

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            var inventory = try ServerInventory.load(home: context.home)
            guard let server = inventory.server(named: name) else {
                let names = inventory.servers.map(\.name)
                throw CLIError(
                    "There is no server named '\(name)'.",
                    hint: names.isEmpty ? "Your inventory is empty." : "Known servers: \(names.joined(separator: ", ")).")
            }
            if !yes {
                guard try context.terminal.confirmOrRequireYes(
                    "Remove \(name) (\(server.user)@\(server.host):\(server.port))?",
                    action: "Removing '\(name)'", verb: "remove it", declined: "Kept \(name).")
                else { return }
            }
            _ = try inventory.remove(named: name)
            try inventory.save()
            context.terminal.success("Removed \(name) from \(inventory.displayName).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List the servers in your inventory.",
            aliases: ["list"]
        )

        @OptionGroup var globals: GlobalOptions

        @Flag(help: "Print JSON on stdout.")
        var json = false

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let inventory = try ServerInventory.load(home: context.home)
            if json {
                context.terminal.data(JSONOutput.encode(inventory.servers))
                return
            }
            guard !inventory.servers.isEmpty else {
                context.terminal.say("No servers yet.")
                context.terminal.say("Add one with: tako servers add <host> --name <name>")
                return
            }
            let rows = inventory.servers.map { [$0.name, $0.host, String($0.port), $0.user, $0.description ?? ""] }
            context.terminal.data(Table(headers: ["NAME", "HOST", "PORT", "USER", "DESCRIPTION"], rows: rows).render())
        }
    }
}
