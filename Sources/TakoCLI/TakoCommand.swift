import ArgumentParser
import Foundation
import TakoCore

/// The `tako` command: the root that lists every subcommand.
public struct TakoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tako",
        abstract: "Ship apps to your own servers: rolling deploys, HTTPS, secrets and logs in one tool.",
        discussion: """
            Start with 'tako init' in your project, add a server with 'tako servers add', keep \
            secrets with 'tako secrets set', ship with 'tako deploy'. 'tako help <command>' \
            explains each command.
            """,
        version: TakoVersion.current,
        subcommands: [
            InitCommand.self,
            ValidateCommand.self,
            SecretsCommand.self,
            ServersCommand.self,
            DeployCommand.self,
            ReleasesCommand.self,
            RollbackCommand.self,
            DeleteCommand.self,
            LogsCommand.self,
            DevCommand.self,
            DoctorCommand.self,
        ]
    )

    public init() {}

    /// Runs the CLI and returns its exit status. User errors print one message and a hint;
    /// nothing here lets a Swift error description or a stack trace reach the user.
    public static func run(arguments: [String]) async -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        // `-v` before the command (`tako -v servers ls`) applies to whichever command runs.
        var arguments = arguments
        while let first = arguments.first, first == "-v" || first == "--verbose" {
            arguments.removeFirst()
            setenv(GlobalOptions.verboseVariable, "1", 1)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as any UserFacingError {
            report(error, environment: environment)
            return 1
        } catch let error as CommandFailure {
            return error.status
        } catch {
            // Argument errors, --help and --version: ArgumentParser prints them and picks the status.
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let isError = exitCode(for: error) != .success
                let handle = isError ? FileHandle.standardError : FileHandle.standardOutput
                handle.write(Data((message + "\n").utf8))
            }
            return exitCode(for: error).rawValue
        }
    }

    static func report(_ error: any UserFacingError, environment: [String: String]) {
        let terminal = Terminal(environment: environment)
        if let problems = error as? ConfigProblems, problems.errors.count > 1 {
            terminal.error("\(problems.errors.count) problems in the configuration:")
            for problem in problems.errors {
                terminal.say("  " + problem.message)
                if let hint = problem.hint { terminal.say("    " + terminal.paint("hint:", .dim) + " " + hint) }
            }
            return
        }
        terminal.error(error.message, hint: error.hint)
    }
}

/// A command that has already told the user what went wrong and only needs to exit non-zero.
struct CommandFailure: Error {
    var status: Int32 = 1
}
