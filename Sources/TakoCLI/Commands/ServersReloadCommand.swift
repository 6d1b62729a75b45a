import ArgumentParser
import Foundation
import TakoCore

extension ServersCommand {
    /// `tako servers reload NAME`: restarts every app on one server with its current release,
    /// one instance at a time (each app's `ctl reload`), so running apps pick up what changed
    /// on the host without a deploy and without downtime.
    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload", abstract: "Restart every app on a server, one instance at a time.")

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's name.")
        var name: String

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let server = try RemoteServer.named(name, context: context)
            _ = try await server.hello()
            let apps = try await server.status().apps
            guard !apps.isEmpty else {
                context.terminal.say("\(name) runs no apps; nothing to reload.")
                return
            }
            var failed = 0
            for app in apps {
                do {
                    _ = try await server.transport.ctl(server.entry, ["reload", app.name])
                    context.terminal.success("\(name): \(app.name) reloaded")
                } catch {
                    failed += 1
                    context.terminal.error(error.message, hint: error.hint)
                }
            }
            if failed > 0 { throw CommandFailure() }
        }
    }
}
