import ArgumentParser
import Foundation
import TakoCore

extension ServersCommand {
    /// `tako servers upgrade NAME [--binary PATH]`: uploads a tako-server binary and hands the
    /// traffic over to it with no downtime; any failure leaves the old one serving
    /// (docs/server.md, "Upgrades").
    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade", abstract: "Replace tako-server on a server with a new binary, without dropping a request.",
            discussion: """
                Uploads the binary with its SHA-256, checks that it runs on the host, and restarts \
                tako-server gracefully onto it: the new process takes over once its apps are \
                healthy, the old one drains. If anything fails, the previous binary is put back \
                and the old process keeps serving. Deploys and other changes are refused on that \
                server while the upgrade runs.
                """)

        @OptionGroup var globals: GlobalOptions

        @Argument(help: "The server's name.")
        var name: String

        @Option(help: "The new tako-server binary, built for the server (default: the tako-server beside this tako).")
        var binary: String?

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let server = try RemoteServer.named(name, context: context)
            let path = try binaryPath()
            let file = try ReleaseBuilder.describe(URL(fileURLWithPath: path))
            let hello = try await server.greeting()
            guard hello.capabilities.contains("binary_upgrade") else {
                throw CLIError(
                    "tako-server \(hello.serverVersion) on \(name) cannot upgrade itself.",
                    hint: "Install the new binary there once with scripts/install-server.sh; later upgrades work from here.")
            }
            context.terminal.say("Uploading \(path) (\(DeployCommand.size(file.size))) to \(name), which runs tako-server \(hello.serverVersion)…")
            let user = context.environment["USER"] ?? "someone"
            let upgrade = try await server.upgrade(binary: file, owner: "\(user)@\(ProcessInfo.processInfo.hostName)", progress: nil)
            context.terminal.success(
                "\(name): tako-server \(upgrade.previousVersion) → \(upgrade.version) without downtime (pid \(upgrade.previousPid) → \(upgrade.pid))")
        }

        /// `--binary`, else `tako-server` in the directory of this `tako` (installs ship both).
        func binaryPath() throws -> String {
            if let binary {
                guard FileManager.default.isReadableFile(atPath: binary) else {
                    throw CLIError("There is no readable file at \(binary).", hint: "Pass the path of a tako-server binary built for the server.")
                }
                return binary
            }
            let me = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
            let beside = me.deletingLastPathComponent().appendingPathComponent("tako-server").path
            guard FileManager.default.isReadableFile(atPath: beside) else {
                throw CLIError(
                    "There is no tako-server beside this tako (\(me.deletingLastPathComponent().path)) to upload.",
                    hint: "Pass one with --binary PATH: the tako-server build for the server's machine.")
            }
            return beside
        }
    }
}
