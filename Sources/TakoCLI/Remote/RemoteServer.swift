import Foundation
import TakoCore

/// One deployment host as the CLI sees it: its inventory entry and the commands it runs there
/// through `tako-server ctl` over SSH. Answers are the `data` JSON `ctl` prints.
struct RemoteServer: Sendable {
    /// What a host's tako-server must offer for this CLI.
    static let requiredCapability = "release_upload"

    let entry: ServerEntry
    let transport: SSHTransport

    var name: String { entry.name }

    /// Connects and checks that tako-server is there and speaks this CLI's protocol.
    func hello() async throws(UserError) -> HelloInfo {
        let info: HelloInfo = try await call(["hello"])
        guard info.protocolVersion == ManagementProtocol.version else {
            throw UserError(
                "tako-server \(info.serverVersion) on \(name) speaks management protocol \(info.protocolVersion); this tako (\(TakoVersion.current)) speaks \(ManagementProtocol.version)",
                hint: "upgrade the older one (tako servers upgrade \(name), or a newer tako)")
        }
        guard info.capabilities.contains(Self.requiredCapability) else {
            throw UserError(
                "tako-server \(info.serverVersion) on \(name) is too old to receive releases",
                hint: "upgrade it: tako servers upgrade \(name)")
        }
        return info
    }

    /// tako-server's `hello` as it is, whatever protocol it speaks (an upgrade must reach a
    /// server older than this CLI).
    func greeting() async throws(UserError) -> HelloInfo {
        try await call(["hello"])
    }

    /// A graceful restart of tako-server (`ctl restart`): answers once the successor serves.
    /// `hard`: a plain stop and start instead, answered once the server is back.
    func restart(hard: Bool = false) async throws(UserError) -> ServerRestart {
        try await call(["restart"] + (hard ? ["--hard"] : []))
    }

    /// Uploads a tako-server binary and hands over to it (`ctl upgrade`).
    func upgrade(binary: BuiltRelease, owner: String, progress: (@Sendable (Int64) -> Void)?) async throws(UserError) -> ServerUpgrade {
        try await call(
            ["upgrade", "--size", String(binary.size), "--sha256", binary.sha256, "--owner", owner],
            input: .file(prefix: Data(), path: binary.path.path, progress: progress))
    }

    func serverInfo() async throws(UserError) -> ServerInfo {
        try await call(["server-info"])
    }

    func status(app: String? = nil) async throws(UserError) -> StatusReport {
        try await call(["status"] + (app.map { [$0] } ?? []))
    }

    /// Uploads the archive and rolls it out (`ctl ship`); secrets travel on stdin before it.
    func ship(
        _ request: DeployRequest, archive: BuiltRelease, holder: String, secrets: [String: String]?,
        progress: (@Sendable (Int64) -> Void)?
    ) async throws(UserError) -> AppStatus {
        var arguments = ["ship", request.app, "--version", request.version, "--env", request.env]
        for route in request.routes { arguments += ["--route", route] }
        arguments += ["--instances", String(request.instances), "--idle-timeout", String(request.idleTimeoutSecs)]
        if let start = request.start { arguments += ["--start", start] }
        if let health = request.healthCheck { arguments += ["--health-check", health] }
        for (name, value) in request.vars.sorted(by: { $0.key < $1.key }) { arguments += ["--var", "\(name)=\(value)"] }
        arguments += ["--size", String(archive.size), "--sha256", archive.sha256, "--holder", holder]
        var prefix = Data()
        if let secrets {
            arguments.append("--secrets")
            prefix = ((try? JSONEncoder().encode(secrets)) ?? Data("{}".utf8)) + Data("\n".utf8)
        }
        return try await call(arguments, input: .file(prefix: prefix, path: archive.path.path, progress: progress))
    }

    private func call<Answer: Decodable>(_ command: [String], input: ProcessRunner.Input = .none) async throws(UserError) -> Answer {
        let result = try await transport.ctl(entry, command, input: input)
        do {
            return try JSONDecoder().decode(Answer.self, from: result.stdout)
        } catch {
            throw UserError(
                "tako-server on \(name) gave an answer this tako cannot read",
                hint: "check that tako and tako-server are the same version (tako servers status)")
        }
    }
}

extension RemoteServer {
    /// The inventory's server `name`, reached over SSH (`servers reload`, `servers restart`).
    static func named(_ name: String, context: CommandContext) throws -> RemoteServer {
        let inventory = try ServerInventory.load(home: context.home)
        guard let entry = inventory.server(named: name) else {
            throw CLIError("There is no server named '\(name)'.", hint: "tako servers ls lists them.")
        }
        let transport = SSHTransport(home: context.home, environment: context.environment, interactive: context.terminal.isInteractive)
        return RemoteServer(entry: entry, transport: transport)
    }
}
