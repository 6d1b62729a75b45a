import ArgumentParser
import Foundation
import TakoCore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    /// Set by `tako -v <command>` and honoured by every command, so scripts can set it too.
    static let verboseVariable = "TAKO_VERBOSE"

    @Flag(name: [.short, .long], help: "Print more detail about what Tako does.")
    var verbose = false
}

/// What a command runs with: the environment, the user's Tako directory and the terminal.
/// Built once per command from the process, so commands never read globals themselves.
struct CommandContext {
    let environment: [String: String]
    let home: TakoHome
    let terminal: Terminal
    let currentDirectory: URL

    init(_ options: GlobalOptions) {
        environment = ProcessInfo.processInfo.environment
        home = TakoHome(environment: environment)
        terminal = Terminal(
            environment: environment, verbose: options.verbose || environment[GlobalOptions.verboseVariable] == "1")
        currentDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    }

    /// A project directory argument resolved against the working directory.
    func directory(_ argument: String?) -> URL {
        guard let argument else { return currentDirectory }
        return URL(fileURLWithPath: argument, isDirectory: true, relativeTo: currentDirectory).standardizedFileURL
    }

    /// Makes sure `~/.tako` exists (recreated when the user deleted it).
    func ensureHome() throws {
        terminal.debug("Tako home: \(home.root.path)")
        do {
            try home.ensureExists()
        } catch {
            throw HomeError(path: home.root.path)
        }
    }

    /// Loads the project and prints its warnings.
    func loadProject(_ directory: URL) throws(ConfigProblems) -> TakoProject {
        terminal.debug("reading \(directory.appendingPathComponent(TakoConfig.fileName).path)")
        let project = try TakoProject.load(directory: directory)
        terminal.debug("app name '\(project.appName)' from \(project.appNameSource)")
        for warning in project.warnings {
            terminal.warning(warning.message, hint: warning.hint)
        }
        return project
    }
}

struct HomeError: UserFacingError {
    var path: String
    var message: String { "Cannot create Tako's directory \(path)." }
    var hint: String? { "Check that its parent is writable, or point TAKO_HOME somewhere else." }
}

/// A user error raised by a command itself.
typealias CLIError = UserError
