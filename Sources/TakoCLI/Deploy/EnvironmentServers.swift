import Foundation
import TakoCore

/// The servers an environment runs on: its `[servers.NAME]` mappings in tako.toml, each
/// found in the user's inventory.
enum EnvironmentServers {
    static func resolve(
        project: TakoProject, environment: String, context: CommandContext
    ) throws -> [(server: RemoteServer, mapping: TakoConfig.ServerMapping)] {
        let config = project.config
        guard environment != TakoConfig.developmentEnvironment else {
            throw CLIError("The development environment runs locally, not on servers.", hint: "Use tako dev; pick a deployed environment with --env.")
        }
        guard config.environment(named: environment) != nil else {
            let known = config.environments.map(\.name).filter { $0 != TakoConfig.developmentEnvironment }
            throw CLIError(
                "tako.toml has no [envs.\(environment)].",
                hint: known.isEmpty ? "Add [envs.\(environment)] with a route." : "Known environments: \(known.joined(separator: ", ")).")
        }
        let mappings = config.servers(for: environment)
        let inventory = try ServerInventory.load(home: context.home)
        guard !mappings.isEmpty else {
            let names = inventory.servers.map(\.name)
            throw CLIError(
                "No server is mapped to \(environment) in tako.toml.",
                hint: names.isEmpty
                    ? "Add one with: tako servers add <host> --name <name>, then [servers.<name>] env = \"\(environment)\" in tako.toml."
                    : "Add [servers.\(names[0])] env = \"\(environment)\" to tako.toml (your servers: \(names.joined(separator: ", "))).")
        }
        let transport = SSHTransport(home: context.home, environment: context.environment, interactive: context.terminal.isInteractive)
        return try mappings.map { mapping in
            guard let entry = inventory.server(named: mapping.name) else {
                throw CLIError(
                    "tako.toml maps the server '\(mapping.name)' to \(environment), but it is not in your inventory.",
                    hint: "Add it with: tako servers add <host> --name \(mapping.name)")
            }
            return (RemoteServer(entry: entry, transport: transport), mapping)
        }
    }

    /// Prints each server's outcome in `servers` order (`success` for an answer, the error
    /// and its hint otherwise) and returns how many failed.
    @discardableResult
    static func report<Answer>(
        _ outcomes: [String: Result<Answer, UserError>], for servers: [RemoteServer], terminal: Terminal,
        success: (_ server: String, Answer) -> Void
    ) -> Int {
        var failed = 0
        for server in servers {
            switch outcomes[server.name] {
            case .success(let answer): success(server.name, answer)
            case .failure(let error):
                failed += 1
                terminal.error(error.message, hint: error.hint)
            case nil: break
            }
        }
        return failed
    }

    /// One line for an app a server now runs: `la: web v2 is running (2/2 instances healthy)`.
    static func summary(_ status: AppStatus, server: String, app: String) -> String {
        let healthy = status.instances.filter { $0.state == .healthy }.count
        let instances = status.instances.isEmpty ? "on demand" : "\(healthy)/\(status.instances.count) instances healthy"
        return "\(server): \(app) \(status.version) is \(status.state.rawValue) (\(instances))"
    }

    /// Runs `work` on every server at once and returns each outcome by server name.
    static func each<Answer: Sendable>(
        _ servers: [RemoteServer], _ work: @escaping @Sendable (RemoteServer) async throws -> Answer
    ) async -> [String: Result<Answer, UserError>] {
        await withTaskGroup(of: (String, Result<Answer, UserError>).self) { group in
            for server in servers {
                group.addTask {
                    do {
                        return (server.name, .success(try await work(server)))
                    } catch let error as UserError {
                        return (server.name, .failure(error))
                    } catch {
                        return (server.name, .failure(UserError("\(server.name): \(error)")))
                    }
                }
            }
            var outcomes: [String: Result<Answer, UserError>] = [:]
            for await (name, outcome) in group { outcomes[name] = outcome }
            return outcomes
        }
    }
}
