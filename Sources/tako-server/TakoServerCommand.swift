import ArgumentParser
import Foundation
import TakoCore

/// The host daemon. `tako-server` (or `tako-server serve`) runs it; `tako-server ctl` talks to
/// a running one over its management socket; `tako-server proxy` runs the proxy alone.
@main
struct TakoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tako-server",
        abstract: "Tako's host daemon: reverse proxy, app supervision and the management socket.",
        version: TakoVersion.current,
        subcommands: [ServeCommand.self, CtlCommand.self, ProxyCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

/// Prints a user error as `error: ...` and `hint: ...` on stderr; returns the exit code.
func report(_ error: any UserFacingError, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
    if let hint = error.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
    return ExitCode(code)
}
