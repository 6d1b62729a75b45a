import ArgumentParser
import Foundation
import TakoCore

extension ServersCommand {
    /// `tako servers status`: every server in the inventory at once: reachable or not, its
    /// tako-server version, and each app with its environment, state, healthy instances,
    /// build, deploy time (local) and certificates. Needs no tako.toml.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show every server's tako-server and apps.")

        @OptionGroup var globals: GlobalOptions

        @Flag(help: "Print JSON on stdout.")
        var json = false

        struct Report: Encodable, Sendable {
            var name: String
            var host: String
            var reachable: Bool
            var serverVersion: String?
            var error: String?
            var apps: [AppStatus]
            var certificates: [CertificateStatus]

            enum CodingKeys: String, CodingKey {
                case name, host, reachable, error, apps, certificates
                case serverVersion = "server_version"
            }
        }

        func run() async throws {
            let context = CommandContext(globals)
            try context.ensureHome()
            let inventory = try ServerInventory.load(home: context.home)
            guard !inventory.servers.isEmpty else {
                if json { context.terminal.data("[]") } else { context.terminal.say("No servers yet. Add one with: tako servers add <host> --name <name>") }
                return
            }
            let transport = SSHTransport(home: context.home, environment: context.environment, interactive: context.terminal.isInteractive)
            let servers = inventory.servers.map { RemoteServer(entry: $0, transport: transport) }
            let outcomes = await EnvironmentServers.each(servers) { server in
                let hello = try await server.hello()
                return (hello, try await server.status())
            }
            let reports = servers.map { server -> Report in
                switch outcomes[server.name] {
                case .success(let (hello, status)):
                    return Report(
                        name: server.name, host: server.entry.host, reachable: true, serverVersion: hello.serverVersion,
                        apps: status.apps, certificates: status.certificates ?? [])
                case .failure(let error):
                    return Report(name: server.name, host: server.entry.host, reachable: false, error: error.message, apps: [], certificates: [])
                case nil:
                    return Report(name: server.name, host: server.entry.host, reachable: false, apps: [], certificates: [])
                }
            }
            if json {
                context.terminal.data(JSONOutput.encode(reports))
            } else {
                context.terminal.data(Self.tree(reports, terminal: context.terminal))
            }
            if reports.contains(where: { !$0.reachable }) { throw CommandFailure() }
        }

        static func tree(_ reports: [Report], terminal: Terminal) -> String {
            let local = Date.FormatStyle(date: .numeric, time: .shortened)
            var lines: [String] = []
            for report in reports {
                guard report.reachable else {
                    lines.append("\(terminal.paint(report.name, .bold)) (\(report.host))  \(terminal.paint("unreachable", .red)): \(report.error ?? "")")
                    continue
                }
                lines.append("\(terminal.paint(report.name, .bold)) (\(report.host))  tako-server \(report.serverVersion ?? "?")")
                if report.apps.isEmpty { lines.append("└─ no apps") }
                for (index, app) in report.apps.enumerated() {
                    let last = index == report.apps.count - 1
                    let healthy = app.instances.filter { $0.state == .healthy }.count
                    var line = "\(last ? "└─" : "├─") \(app.name) (\(app.env ?? "?")) \(app.state.rawValue)  \(healthy)/\(app.instances.count) healthy  build \(app.version)"
                    if let deployed = app.deployedAt { line += "  deployed \(deployed.formatted(local))" }
                    lines.append(line)
                    if let error = app.lastError { lines.append("\(last ? "   " : "│  ") last error: \(error)") }
                }
                for certificate in report.certificates {
                    var line = "   certificate \(certificate.host): "
                    if let until = certificate.validUntil { line += "valid until \(until.formatted(local))" } else { line += "none yet" }
                    if certificate.issuing { line += ", renewing" }
                    if let error = certificate.lastError { line += ", last error: \(error)" }
                    lines.append(line)
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
