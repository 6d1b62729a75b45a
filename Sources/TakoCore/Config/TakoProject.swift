import Foundation

/// A project directory with its `tako.toml` read, checked and its app name resolved.
public struct TakoProject: Sendable {
    public var directory: URL
    public var config: TakoConfig
    public var appName: String
    public var appNameSource: AppNameSource
    /// Problems that do not stop a command, for it to print.
    public var warnings: [ConfigError]

    public var configFile: URL { directory.appendingPathComponent(TakoConfig.fileName) }

    /// Reads `{directory}/tako.toml`. Throws every error found (warnings alone do not throw).
    public static func load(directory: URL) throws(ConfigProblems) -> TakoProject {
        let file = directory.appendingPathComponent(TakoConfig.fileName)
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            let exists = FileManager.default.fileExists(atPath: file.path)
            throw ConfigProblems([
                exists
                    ? ConfigError(
                        .unreadableFile, file: TakoConfig.fileName, "cannot read \(file.path) as UTF-8 text",
                        hint: "check the file's permissions and encoding")
                    : ConfigError(
                        .missingFile, file: TakoConfig.fileName, "no tako.toml in \(directory.path)",
                        hint: "run 'tako init' to create one, or run the command in your project's directory"),
            ])
        }
        return try load(text: text, directory: directory)
    }

    /// Checks `text` as the tako.toml of `directory` (used by `load` and by tests).
    public static func load(text: String, directory: URL) throws(ConfigProblems) -> TakoProject {
        let (config, parsed) = TakoConfig.parse(text)
        var problems = parsed
        guard !problems.contains(where: { $0.code == .syntax }) else { throw ConfigProblems(problems) }

        let resolved: (name: String, source: AppNameSource)?
        if let name = config.name {
            resolved = (name, .takoToml)
        } else if problems.contains(where: { $0.code == .invalidAppName }) {
            resolved = nil  // already reported; do not guess another name over the user's
        } else {
            resolved = AppNameDetector.detect(in: directory)
            if resolved == nil {
                problems.append(
                    ConfigError(
                        .noAppName, file: TakoConfig.fileName,
                        "cannot derive an app name from the project manifest or the directory name '\(directory.lastPathComponent)'",
                        hint: "set one in tako.toml: [tako] name = \"my-app\""))
            }
        }
        if let resolved {
            problems += developmentRouteProblems(config, appName: resolved.name)
        }
        guard let resolved, !problems.contains(where: { $0.severity == .error }) else {
            throw ConfigProblems(problems)
        }
        return TakoProject(
            directory: directory, config: config, appName: resolved.name, appNameSource: resolved.source,
            warnings: problems)
    }

    /// Development routes must stay inside `{app}.tako.local`; `tako dev` serves exact hosts
    /// only, so wildcards there are ignored (a warning).
    static func developmentRouteProblems(_ config: TakoConfig, appName: String) -> [ConfigError] {
        guard let environment = config.environment(named: TakoConfig.developmentEnvironment) else { return [] }
        let base = "\(appName).tako.local"
        var problems: [ConfigError] = []
        for route in environment.routes {
            let host: String
            let isWildcard: Bool
            switch route.host {
            case .exact(let name): (host, isWildcard) = (name, false)
            case .wildcard(let suffix): (host, isWildcard) = (suffix, true)
            }
            if host != base && !host.hasSuffix("." + base) && !(isWildcard && host == base) {
                problems.append(
                    ConfigError(
                        .devRouteOutsideApp, file: TakoConfig.fileName, line: environment.routesLine,
                        key: "envs.development",
                        "[envs.development] route '\(route)' is outside \(base)",
                        hint: "development routes must be \(base) or a subdomain of it, e.g. api.\(base)"))
            } else if isWildcard {
                problems.append(
                    ConfigError(
                        .devRouteWildcard, file: TakoConfig.fileName, line: environment.routesLine,
                        key: "envs.development",
                        "[envs.development] route '\(route)' is a wildcard, which 'tako dev' ignores",
                        hint: "list the exact hosts you need, e.g. api.\(base)", severity: .warning))
            }
        }
        return problems
    }

    /// The routes `tako dev` serves: the exact development routes, else `{app}.tako.local`.
    public var developmentRoutes: [RoutePattern] {
        let exact = config.environment(named: TakoConfig.developmentEnvironment)?.routes.filter {
            if case .exact = $0.host { return true }
            return false
        } ?? []
        if !exact.isEmpty { return exact }
        return (try? RoutePattern("\(appName).tako.local")).map { [$0] } ?? []
    }
}
