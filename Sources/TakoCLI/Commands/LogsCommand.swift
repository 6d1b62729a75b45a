import ArgumentParser
import Foundation
import TakoCore

/// `tako logs`: the app's recent log lines from every server of an environment, then every
/// new line as it is written, each prefixed `[server]` (coloured per server on a terminal).
/// Stops with Ctrl-C, or when every server's stream has ended.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the app's logs from every server of an environment, following new lines.")

    @OptionGroup var globals: GlobalOptions

    @Option(help: "The environment.")
    var env = TakoConfig.defaultDeployEnvironment

    @Option(help: "How many recent lines to show from each server first.")
    var tail = 100

    @Option(help: "Only lines from this recent period, e.g. 30s, 10m, 2h, 1d.")
    var since: String?

    @Flag(help: "Print the recent lines and stop instead of following.")
    var noFollow = false

    @Argument(help: "The project directory (default: the current directory).")
    var directory: String?

    func run() async throws {
        let context = CommandContext(globals)
        try context.ensureHome()
        guard tail >= 0 else { throw CLIError("--tail must be 0 or more.", hint: "For example --tail 200.") }
        let cutoff = try since.map { text throws in
            guard let seconds = Self.seconds(text) else {
                throw CLIError("--since '\(text)' is not a duration.", hint: "Use a number and s, m, h or d, e.g. --since 15m.")
            }
            return Date().addingTimeInterval(-seconds)
        }
        let project = try context.loadProject(context.directory(directory))
        let servers = try EnvironmentServers.resolve(project: project, environment: env, context: context).map(\.server)
        let app = project.appName
        let terminal = context.terminal
        let colours: [Terminal.Style] = [.cyan, .magenta, .yellow, .green, .blue]
        let follow = !noFollow
        let outcomes = await EnvironmentServers.each(servers) { server in
            let index = servers.firstIndex { $0.name == server.name } ?? 0
            let prefix = terminal.paint("[\(server.name)]", colours[index % colours.count])
            var command = ["logs", app, "--lines", String(tail)]
            if follow { command.append("--follow") }
            let onLine: ProcessRunner.LineHandler = { line in
                if let cutoff, let stamp = Self.timestamp(of: line), stamp < cutoff { return }
                terminal.data("\(prefix) \(line)")
            }
            if follow {
                _ = try await server.transport.ctl(server.entry, command, onLine: onLine)
            } else {
                let result = try await server.transport.ctl(server.entry, command)
                let object = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
                for line in object?["lines"] as? [String] ?? [] { onLine(line) }
            }
        }
        if EnvironmentServers.report(outcomes, for: servers, terminal: terminal, success: { _, _ in }) > 0 { throw CommandFailure() }
    }

    static func seconds(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86400
        default: return nil
        }
    }

    /// Log lines start with an ISO 8601 time (tako-server's AppLog).
    static func timestamp(of line: String) -> Date? {
        guard let space = line.firstIndex(of: " ") else { return nil }
        let text = String(line[..<space])
        return (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
