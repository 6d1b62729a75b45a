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

    /// How the daemon's run ended.
    enum Outcome: Sendable {
        case stop, handedOver, hardRestart
    }

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
            await daemon.enableRestarts(
                executable: ServerDaemon.currentExecutable(), arguments: Array(CommandLine.arguments.dropFirst()))
            let outcome = await withTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    for await signal in TerminationSignal.stream([SIGTERM, SIGINT, SIGHUP]) {
                        guard signal == SIGHUP else { return .stop }
                        FileHandle.standardError.write(Data("tako-server: SIGHUP\n".utf8))
                        do {
                            _ = try await daemon.restart()
                        } catch {
                            let message = (error as? any UserFacingError).map { $0.message + ($0.hint.map { " (\($0))" } ?? "") } ?? "\(error)"
                            FileHandle.standardError.write(Data("tako-server: graceful restart failed: \(message)\n".utf8))
                        }
                    }
                    return .stop
                }
                group.addTask {
                    await daemon.waitUntilHandedOff()
                    return .handedOver
                }
                group.addTask {
                    await daemon.waitUntilHardRestart()
                    return .hardRestart
                }
                let first = await group.next() ?? .stop
                group.cancelAll()
                return first
            }
            switch outcome {
            case .handedOver:
                await daemon.finishHandoff()
            case .stop:
                FileHandle.standardError.write(Data("tako-server stopping\n".utf8))
                await daemon.shutdown()
            case .hardRestart:
                FileHandle.standardError.write(Data("tako-server stopping for a hard restart\n".utf8))
                await daemon.shutdown()
                let (executable, arguments) = daemon.restartCommand ?? (ServerDaemon.currentExecutable(), [])
                throw report(ServerDaemon.executeAgain(executable: executable, arguments: arguments))
            }
        } catch let error as any UserFacingError {
            throw report(error)
        }
    }
}
