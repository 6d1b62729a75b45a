import ArgumentParser
import Foundation
import TakoCore

extension ServersCommand {
    /// `tako servers restart NAME`: restarts tako-server on one host with no downtime — a new
    /// process takes over the listening sockets once its apps are healthy, then the old one
    /// drains (docs/server.md, "Graceful restarts"). `--hard`: a plain stop and start.
    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart", abstract: "Restart tako-server on a server without dropping a request.",
            discussion: """
                With --hard, tako-server stops (in-flight requests finish, the apps stop) and starts \
                again: connections are refused for a few seconds. For a server whose graceful \
                restart keeps failing, or to start from a clean slate.
                """)

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's name.")
        var name: String

        @Flag(help: "Stop and start tako-server instead of handing over (short downtime).")
        var hard = false

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let server = try RemoteServer.named(name, context: context)
            let hello = try await server.hello()
            let needed = hard ? "hard_restart" : "graceful_restart"
            guard hello.capabilities.contains(needed) else {
                throw CLIError(
                    "tako-server \(hello.serverVersion) on \(name) cannot restart itself\(hard ? "" : " gracefully").",
                    hint: "Upgrade it first (tako servers upgrade \(name)), or restart its service by hand.")
            }
            if hard {
                context.terminal.say("Stopping and starting tako-server on \(name); connections are refused until it is back…")
                let restart = try await server.restart(hard: true)
                context.terminal.success("\(name): tako-server stopped and started again (pid \(restart.pid))")
                return
            }
            let restart = try await server.restart()
            context.terminal.success("\(name): tako-server restarted without downtime (pid \(restart.previousPid) → \(restart.pid))")
        }
    }
}
