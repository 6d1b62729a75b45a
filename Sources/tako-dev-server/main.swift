import ArgumentParser
import TakoCore

/// The local development daemon behind `tako dev`. This build reports its version and usage only.
struct TakoDevServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tako-dev-server",
        abstract: "Tako's local development daemon: trusted HTTPS on *.tako.local for 'tako dev'.",
        discussion: "This build reports its version only; the daemon arrives in a later release.",
        version: TakoVersion.current
    )

    func run() throws {
        print(Self.helpMessage())
    }
}

TakoDevServerCommand.main()
