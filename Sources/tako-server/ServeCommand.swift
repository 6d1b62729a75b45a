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
            commands, drains in-flight requests and stops the apps. SIGHUP restarts gracefully: \
            a new tako-server (this binary's path, so an upgraded file) takes over the listening \
            sockets once its apps are healthy, then this one drains and exits; if the new one \
            fails, this one keeps serving.
            """
    )

    @Option(help: "The server configuration file.")
    var config: String?

    func run() async throws {
        do {
            let (path, explicit) = ServerConfig.location(flag: config)
            let settings = try ServerConfig.load(path: path, explicit: explicit)
            let environment = ProcessInfo.processInfo.environment
            let inheritance = HandoffInheritance.fromEnvironment(environment)
            unsetenv(HandoffInheritance.variable)
            let daemon = try await ServerDaemon.start(config: settings, inheritance: inheritance)
            FileHandle.standardError.write(Data(
                "tako-server \(TakoVersion.current) (pid \(getpid())) listening on http://\(settings.listenHost):\(daemon.httpPort) and https://\(settings.listenHost):\(daemon.httpsPort), management socket \(settings.socket)\(inheritance.map { " (took over from pid \($0.parent))" } ?? "")\n".utf8))
            for await signal in TerminationSignal.stream([SIGTERM, SIGINT, SIGHUP]) {
                if signal == SIGHUP {
                    FileHandle.standardError.write(Data("tako-server: SIGHUP, starting a successor\n".utf8))
                    do {
                        try await daemon.handOff(
                            executable: ServerDaemon.currentExecutable(), arguments: Array(CommandLine.arguments.dropFirst()))
                        return
                    } catch {
                        let message = (error as? any UserFacingError).map { $0.message + ($0.hint.map { " (\($0))" } ?? "") } ?? "\(error)"
                        FileHandle.standardError.write(Data("tako-server: graceful restart failed: \(message)\n".utf8))
                        continue
                    }
                }
                break
            }
            FileHandle.standardError.write(Data("tako-server stopping\n".utf8))
            await daemon.shutdown()
        } catch let error as any UserFacingError {
            throw report(error)
        }
    }
}
