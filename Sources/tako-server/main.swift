import ArgumentParser
import TakoCore

/// The host daemon. This build has no daemon yet: it reports its version and usage only.
struct TakoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tako-server",
        abstract: "Tako's host daemon: reverse proxy, HTTPS, app supervision and the management socket.",
        discussion: "This build reports its version only; the daemon arrives in a later release.",
        version: TakoVersion.current
    )

    func run() throws {
        print(Self.helpMessage())
    }
}

TakoServerCommand.main()
