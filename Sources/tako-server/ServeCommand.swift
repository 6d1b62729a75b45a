import ArgumentParser
import Foundation
import TakoCore
import TakoHosting
import TakoServer

/// `tako-server [serve]`: the daemon, in the foreground (systemd runs it this way).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the host daemon in the foreground (the default command).",
        discussion: """
            Reads server-config.toml from --config, else $TAKO_SERVER_CONFIG, else \
            /opt/tako/server-config.toml (all keys optional). SIGTERM or SIGINT stops taking \
            commands, drains in-flight requests and stops the apps.
            """
    )

    @Option(help: "The server configuration file.")
    var config: String?

    func run() async throws {
        do {
            let (path, explicit) = ServerConfig.location(flag: config)
            let settings = try ServerConfig.load(path: path, explicit: explicit)
            let daemon = try await ServerDaemon.start(config: settings)
            FileHandle.standardError.write(Data(
                "tako-server \(TakoVersion.current) listening on http://\(settings.listenHost):\(daemon.httpPort) and https://\(settings.listenHost):\(daemon.httpsPort), management socket \(settings.socket)\n".utf8))
            await TerminationSignal.wait()
            FileHandle.standardError.write(Data("tako-server stopping\n".utf8))
            await daemon.shutdown()
        } catch let error as any UserFacingError {
            throw report(error)
        }
    }
}
