import ArgumentParser
import Foundation
import TakoCore

extension ServersCommand {
    /// `tako servers restart NAME`: restarts tako-server on one host with no downtime — a new
    /// process takes over the listening sockets once its apps are healthy, then the old one
    /// drains (docs/server.md, "Graceful restarts").
    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart", abstract: "Restart tako-server on a server without dropping a request.")

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's name.")
        var name: String

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let server = try RemoteServer.named(name, context: context)
            let hello = try await server.hello()
            guard hello.capabilities.contains("graceful_restart") else {
                throw CLIError(
                    "tako-server \(hello.serverVersion) on \(name) cannot restart gracefully.",
                    hint: "Upgrade it first (scripts/install-server.sh), or restart its service by hand.")
            }
            let restart = try await server.restart()
            context.terminal.success("\(name): tako-server restarted without downtime (pid \(restart.previousPid) → \(restart.pid))")
        }
    }
}
