import ArgumentParser
import Foundation
import TakoCore
import TakoServer

/// `tako-server ctl ...`: one management request to the running daemon, its answer's `data`
/// as JSON on stdout. This is what the CLI runs over SSH, so every value arrives as its own
/// argument (never through a shell string) and secrets arrive on stdin (never in argv,
/// which other users can read in `ps`).
///
/// Exit codes: 0 answered ok, 1 the server refused (message on stderr), 3 no server.
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Send one command to the running tako-server and print its answer as JSON.",
        subcommands: [
            Hello.self, ServerInfoCommand.self, Routes.self, Status.self, Logs.self, Deploy.self, Ship.self, Stop.self,
            Delete.self, Reload.self, UpdateSecrets.self, Releases.self, Rollback.self, Restart.self, Upgrade.self, EnterUpgrading.self,
            ExitUpgrading.self, Request.self,
        ]
    )

    struct Connection: ParsableArguments {
        @Option(help: "The management socket (default: from the server configuration).")
        var socket: String?

        @Option(help: "The server configuration file, to find the socket.")
        var config: String?

        func send(_ command: ManagementCommand) throws {
            try send(ManagementRequest(command))
        }

        func socketPath() throws -> String {
            do {
                return try socket ?? {
                    let (file, explicit) = ServerConfig.location(flag: config)
                    return try ServerConfig.load(path: file, explicit: explicit).socket
                }()
            } catch let error as any UserFacingError {
                throw report(error)
            }
        }

        func send(_ request: ManagementRequest) throws {
            let path = try socketPath()
            let frame: Data
            do {
                frame = try ManagementClient.send(request, path: path)
            } catch {
                throw report(error, code: 3)
            }
            try print(frame)
        }

        /// Prints a payload this command made itself the way answers' `data` are printed.
        func printPayload(_ payload: some Encodable) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let json = try? encoder.encode(payload) else { throw report(UserError("cannot encode the answer"), code: 1) }
            FileHandle.standardOutput.write(json + Data("\n".utf8))
        }

        /// Prints an answer's `data` as JSON, or reports its error.
        func print(_ frame: Data) throws {
            guard let object = try? JSONSerialization.jsonObject(with: frame) as? [String: Any] else {
                throw report(UserError("tako-server sent an answer that is not JSON"), code: 1)
            }
            if object["status"] as? String == "ok" {
                let data = object["data"] ?? [String: Any]()
                let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data("{}".utf8)
                FileHandle.standardOutput.write(json + Data("\n".utf8))
                return
            }
            let message = (object["message"] as? String) ?? "tako-server refused the request"
            throw report(ManagementFrame.userError(fromErrorMessage: message))
        }
    }

    struct Hello: ParsableCommand {
        @OptionGroup var connection: Connection
        func run() throws { try connection.send(.hello) }
    }

    struct ServerInfoCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "server-info")
        @OptionGroup var connection: Connection
        func run() throws { try connection.send(.serverInfo) }
    }

    struct Routes: ParsableCommand {
        @OptionGroup var connection: Connection
        func run() throws { try connection.send(.routes) }
    }

    struct Status: ParsableCommand {
        @OptionGroup var connection: Connection
        @Argument(help: "One app (default: all).") var app: String?
        func run() throws { try connection.send(.status(app: app)) }
    }

    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an app's last log lines; with --follow, then every new line until interrupted.")
        @OptionGroup var connection: Connection
        @Argument var app: String
        @Option(help: "How many of the last lines.") var lines = ManagementCommand.defaultLogLines
        @Flag(help: "Keep printing new lines.") var follow = false

        func run() throws {
            guard follow else { return try connection.send(.logs(app: app, follow: false, lines: lines)) }
            // Plain text here: one log line per output line, as `tail -f` prints them.
            let path = try connection.socketPath()
            do {
                try ManagementClient.stream(ManagementRequest(.logs(app: app, follow: true, lines: lines)), path: path) { (frame: Data) throws(UserError) in
                    guard let object = try? JSONSerialization.jsonObject(with: frame) as? [String: Any] else { return }
                    if let line = object["line"] as? String {
                        FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    } else if let data = object["data"] as? [String: Any], let lines = data["lines"] as? [String] {
                        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
                    } else if let message = object["message"] as? String {
                        throw UserError(message)
                    }
                }
            } catch {
                throw report(error)
            }
        }
    }

    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roll out a release directory that is already on this host.")
        @OptionGroup var connection: Connection
        @OptionGroup var deploy: DeployOptions
        @Option(help: "The unpacked release directory (absolute).") var release: String

        func run() throws {
            try connection.send(.deploy(try deploy.request(releasePath: release)))
        }
    }

    /// What `deploy` and `ship` share: the app, its version and how to run it.
    struct DeployOptions: ParsableArguments {
        @Argument var app: String
        @Option(help: "The release's version name.") var version: String
        @Option(name: .customLong("route"), help: "A route pattern; repeatable.") var routes: [String] = []
        @Option(help: "The environment name.") var env = "production"
        @Option(help: "Instances always running; 0 starts one on the first request.") var instances = 1
        @Option(help: "Seconds without requests before an instance above the minimum stops.") var idleTimeout = 300
        @Option(help: "The start command (default: detected from the release).") var start: String?
        @Option(help: "The health check path.") var healthCheck: String?
        @Option(name: .customLong("var"), help: "NAME=VALUE; repeatable.") var vars: [String] = []

        func request(releasePath: String) throws -> DeployRequest {
            var variables: [String: String] = [:]
            for pair in vars {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw report(UserError("--var '\(pair)' is not NAME=VALUE", hint: "for example --var LOG_LEVEL=debug"), code: 64)
                }
                variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            return DeployRequest(
                app: app, version: version, env: env, releasePath: releasePath, routes: routes, instances: instances,
                idleTimeoutSecs: idleTimeout, start: start, healthCheck: healthCheck, vars: variables)
        }
    }

    struct Ship: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive a release archive (.tar.gz) on stdin, unpack it and roll it out (what tako deploy runs).",
            discussion: """
                Takes the app's deploy lock, checks the disk, reads exactly --size bytes whose SHA-256 \
                must be --sha256, unpacks them into {data_dir}/apps/APP/releases/VERSION and deploys. \
                With --secrets, one JSON line {NAME: value} comes first on stdin.
                """)
        @OptionGroup var connection: Connection
        @OptionGroup var deploy: DeployOptions
        @Option(help: "The archive's size in bytes.") var size: Int64
        @Option(help: "The archive's SHA-256, in hex.") var sha256: String
        @Option(help: "Who deploys, recorded in the deploy lock.") var holder = "unknown"
        @Flag(help: "A JSON line of secrets precedes the archive on stdin.") var secrets = false

        func run() throws {
            let path = try connection.socketPath()
            let receiver = ReleaseReceiver(
                request: try deploy.request(releasePath: ""), size: size, sha256: sha256, holder: holder, secretsOnInput: secrets)
            let frame: Data
            do {
                frame = try receiver.receive(socket: path)
            } catch {
                throw report(error, code: ManagementClient.isAnswering(path: path) ? 1 : 3)
            }
            try connection.print(frame)
        }
    }

    struct Stop: ParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var app: String
        func run() throws { try connection.send(.stop(app: app)) }
    }

    struct Delete: ParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var app: String
        func run() throws { try connection.send(.delete(app: app)) }
    }

    struct Releases: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an app's kept releases, newest first.")
        @OptionGroup var connection: Connection
        @Argument var app: String
        func run() throws { try connection.send(.releases(app: app)) }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roll an app back to a kept release (default: the one before).")
        @OptionGroup var connection: Connection
        @Argument var app: String
        @Option(help: "The kept release to run.") var version: String?
        func run() throws { try connection.send(.rollback(app: app, version: version)) }
    }

    struct Reload: ParsableCommand {
        @OptionGroup var connection: Connection
        @Argument var app: String
        func run() throws { try connection.send(.reload(app: app)) }
    }

    struct UpdateSecrets: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-secrets", abstract: "Replace an app's secrets with the JSON object {NAME: value} read from stdin.")
        @OptionGroup var connection: Connection
        @Argument var app: String
        func run() throws {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard let secrets = try? JSONDecoder().decode([String: String].self, from: input) else {
                throw report(UserError("stdin is not a JSON object of strings", hint: "send {\"NAME\": \"value\", ...}"), code: 64)
            }
            try connection.send(.updateSecrets(app: app, secrets: secrets))
        }
    }

    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restart tako-server gracefully: a new process takes over once its apps are healthy.",
            discussion: """
                With --hard: a plain stop and start instead (in-flight requests finish, the apps \
                stop, new connections are refused until the server is back). Waits until the \
                restarted server answers.
                """)
        @OptionGroup var connection: Connection
        @Flag(help: "Stop and start instead of handing over (connections are refused meanwhile).") var hard = false
        @Option(help: "With --hard: seconds to wait for the server to answer again.") var timeout = 300

        func run() throws {
            guard hard else { return try connection.send(.restartServer(hard: false)) }
            let path = try connection.socketPath()
            let restart: ServerRestart
            do {
                restart = try HardRestart.perform(socket: path, timeout: .seconds(timeout))
            } catch {
                throw report(error, code: ManagementClient.isAnswering(path: path) ? 1 : 3)
            }
            try connection.printPayload(restart)
        }
    }

    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive a new tako-server binary on stdin and hand over to it without downtime (what tako servers upgrade runs).",
            discussion: """
                Takes the upgrade lock as --owner, reads exactly --size bytes whose SHA-256 must be \
                --sha256, checks that the file runs here (--version), keeps the running binary as \
                tako-server.previous beside it, puts the new one in its place and restarts \
                gracefully onto it. Any failure puts the previous binary back while the running \
                server keeps serving. Prints the versions and pids before and after.
                """)
        @OptionGroup var connection: Connection
        @Option(help: "The binary's size in bytes.") var size: Int64
        @Option(help: "The binary's SHA-256, in hex.") var sha256: String
        @Option(help: "Who upgrades, recorded in the upgrade lock.") var owner: String

        func run() throws {
            let path = try connection.socketPath()
            let upgrade: ServerUpgrade
            do {
                upgrade = try BinaryUpgrade(size: size, sha256: sha256, owner: owner).perform(socket: path)
            } catch {
                throw report(error, code: ManagementClient.isAnswering(path: path) ? 1 : 3)
            }
            try connection.printPayload(upgrade)
        }
    }

    struct EnterUpgrading: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enter-upgrading")
        @OptionGroup var connection: Connection
        @Argument var owner: String
        func run() throws { try connection.send(.enterUpgrading(owner: owner)) }
    }

    struct ExitUpgrading: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "exit-upgrading")
        @OptionGroup var connection: Connection
        @Argument var owner: String
        func run() throws { try connection.send(.exitUpgrading(owner: owner)) }
    }

    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send one JSON request read from stdin.")
        @OptionGroup var connection: Connection
        func run() throws {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let request: ManagementRequest
            do {
                request = try ManagementRequest.decode(frame: input)
            } catch {
                throw report(UserError(error.message, hint: error.hint), code: 64)
            }
            try connection.send(request)
        }
    }
}
