import ArgumentParser
import Foundation
import TakoCore
import TakoDev

/// The local development daemon behind `tako dev`. `tako dev` starts it when it is not
/// running; it runs until stopped (SIGTERM, Ctrl-C, or `shutdown` on its socket).
@main
struct TakoDevServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tako-dev-server",
        abstract: "Tako's local development daemon: trusted HTTPS on *.tako.local for 'tako dev'.",
        discussion: """
            'tako dev' starts this daemon when it is not running. It serves https://{app}.tako.local:47831 \
            with certificates from a local CA in {TAKO_HOME}/ca, redirects http on 47830, answers DNS for \
            dev names on 127.0.0.1:53535 and listens for 'tako dev' on {TAKO_HOME}/dev-server.sock.
            """,
        version: TakoVersion.current,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground.")

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let home = TakoHome(environment: environment)
        var settings = DevRuntime.Settings()
        if let seconds = environment["TAKO_DEV_IDLE_TIMEOUT"].flatMap(Double.init), seconds > 0 {
            settings.idleTimeout = .milliseconds(Int(seconds * 1000))
        }
        let daemon: DevDaemon
        do {
            daemon = try await DevDaemon.start(home: home, ports: DevPorts(environment: environment), settings: settings)
        } catch {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            if let hint = error.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
            throw ExitCode(1)
        }
        let info = daemon.info
        FileHandle.standardError.write(Data("""
            tako-dev-server \(info.version) (pid \(info.pid)) serving https://127.0.0.1:\(info.httpsPort), \
            http :\(info.httpPort), dns :\(info.dnsPort), control socket \(home.devSocket.path)

            """.utf8))
        await daemon.waitForShutdown()
        FileHandle.standardError.write(Data("tako-dev-server stopping\n".utf8))
        await daemon.shutdown()
    }
}

