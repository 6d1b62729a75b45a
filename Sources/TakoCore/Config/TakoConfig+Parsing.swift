/// Reading `tako.toml`: every rule of DESIGN.md §4 that does not need the app's name.
/// Problems are collected, not thrown one at a time, so `tako validate` can list them all.
extension TakoConfig {
    static let topLevelKeys = ["tako", "vars", "envs", "servers"]
    static let takoKeys = ["name", "build", "start", "dev", "health_check"]
    static let serverSettingKeys = ["instances", "port", "idle_timeout"]
    static let serverMappingKeys = ["env", "instances", "port", "idle_timeout"]

    /// Parses and checks `text`. Returns the best configuration that could be read and every
    /// problem found (errors and warnings), each naming `file` and its line.
    public static func parse(_ text: String, file: String = fileName) -> (config: TakoConfig, problems: [ConfigError]) {
        var reader = ConfigReader(file: file)
        guard let document = reader.document(text) else { return (TakoConfig(), reader.problems) }
        var config = TakoConfig()
        for entry in document.root.entries {
            switch entry.key {
            case "tako": config.readTako(entry, &reader)
            case "vars": config.readVars(entry, &reader)
            case "envs": config.readEnvs(entry, &reader)
            case "servers": config.readServers(entry, &reader)
            default: reader.unknownKey(entry, in: "", known: topLevelKeys)
            }
        }
        config.checkEnvironments(&reader)
        return (config, reader.problems)
    }

    private mutating func readTako(_ entry: TOMLTable.Entry, _ reader: inout ConfigReader) {
        guard let table = reader.table(entry, path: "tako") else { return }
        for item in table.entries {
            let path = "tako.\(item.key)"
            switch item.key {
            case "name":
                guard let value = reader.string(item, path: path) else { continue }
                nameLine = item.keyLocation.line
                if let problem = AppName.problem(with: value) {
                    let suggestion = AppName.sanitize(value).map { " e.g. name = \"\($0)\"" } ?? ""
                    reader.report(
                        .invalidAppName, line: item.keyLocation.line, key: path,
                        "app name '\(value)' \(problem)",
                        hint: "use lower-case letters, digits and '-', starting with a letter, at most 63 characters;\(suggestion)")
                } else {
                    name = value
                }
            case "build": build = nonEmpty(reader.string(item, path: path), item, path, &reader)
            case "start": start = nonEmpty(reader.string(item, path: path), item, path, &reader)
            case "dev": dev = nonEmpty(reader.string(item, path: path), item, path, &reader)
            case "health_check":
                guard let value = reader.string(item, path: path) else { continue }
                if value.hasPrefix("/"), !value.contains(where: { $0 == " " || $0 == "\t" || $0.isNewline }) {
                    healthCheck = value
                } else {
                    reader.report(
                        .invalidValue, line: item.keyLocation.line, key: path,
                        "health_check '\(value)' is not a URL path", hint: "write a path such as \"/healthz\"")
                }
            default: reader.unknownKey(item, in: "tako", known: Self.takoKeys)
            }
        }
    }

    private func nonEmpty(
        _ value: String?, _ entry: TOMLTable.Entry, _ path: String, _ reader: inout ConfigReader
    ) -> String? {
        guard let value else { return nil }
        if value.allSatisfy(\.isWhitespace) {
            reader.report(
                .invalidValue, line: entry.keyLocation.line, key: path, "'\(path)' is empty",
                hint: "remove the line or give it a command")
            return nil
        }
        return value
    }

    private mutating func readVars(_ entry: TOMLTable.Entry, _ reader: inout ConfigReader) {
        guard let table = reader.table(entry, path: "vars") else { return }
        for item in table.entries {
            if case .table(let envTable) = item.node.value {
                // [vars.<env>]
                guard Self.checkEnvironmentName(item, path: "vars.\(item.key)", &reader) else { continue }
                environmentVariables[item.key] = Self.readVariables(envTable.entries, section: "vars.\(item.key)", &reader)
            } else if let value = Self.readVariable(item, section: "vars", &reader) {
                variables[item.key] = value
            }
        }
    }

    private static func readVariables(
        _ entries: [TOMLTable.Entry], section: String, _ reader: inout ConfigReader
    ) -> [String: String] {
        var values: [String: String] = [:]
        for item in entries {
            if let value = readVariable(item, section: section, &reader) { values[item.key] = value }
        }
        return values
    }

    private static func readVariable(_ item: TOMLTable.Entry, section: String, _ reader: inout ConfigReader) -> String? {
        let path = "\(section).\(item.key)"
        guard VariableName.isValid(item.key) else {
            reader.report(
                .invalidVariableName, line: item.keyLocation.line, key: path,
                "'\(item.key)' in [\(section)] is not a valid environment variable name",
                hint: "use letters, digits and '_', not starting with a digit, e.g. LOG_LEVEL")
            return nil
        }
        if reservedVariables.contains(item.key) {
            reader.report(
                .reservedVariable, line: item.keyLocation.line, key: path,
                "'\(item.key)' in [\(section)] is set by Tako and will be overridden",
                hint: "remove it, or use another name", severity: .warning)
        }
        return reader.variable(item, path: path)
    }

    @discardableResult
    static func checkEnvironmentName(_ item: TOMLTable.Entry, path: String, _ reader: inout ConfigReader) -> Bool {
        guard let problem = AppName.problem(with: item.key) else { return true }
        reader.report(
            .invalidEnvironmentName, line: item.keyLocation.line, key: path,
            "environment name '\(item.key)' \(problem)",
            hint: "use lower-case letters, digits and '-', e.g. [envs.staging]")
        return false
    }

    private mutating func readEnvs(_ entry: TOMLTable.Entry, _ reader: inout ConfigReader) {
        guard let table = reader.table(entry, path: "envs") else { return }
        for item in table.entries {
            let section = "envs.\(item.key)"
            guard let envTable = reader.table(item, path: section),
                Self.checkEnvironmentName(item, path: section, &reader)
            else { continue }
            var environment = Environment(
                name: item.key, routes: [], routesLine: nil, variables: [:], line: item.keyLocation.line)
            let route = envTable.entry("route")
            let routes = envTable.entry("routes")
            if let route, let routes {
                let second = max(route.keyLocation, routes.keyLocation)
                reader.report(
                    .routeAndRoutes, line: second.line, key: section,
                    "[\(section)] sets both 'route' and 'routes'; keep one",
                    hint: "use route = \"host\" for one route or routes = [\"a\", \"b\"] for several")
            }
            for field in envTable.entries {
                switch field.key {
                case "route":
                    environment.routesLine = field.keyLocation.line
                    if let text = reader.string(field, path: "\(section).route") {
                        environment.routes += Self.readRoute(text, line: field.keyLocation.line, section: section, &reader)
                    }
                case "routes":
                    environment.routesLine = environment.routesLine ?? field.keyLocation.line
                    guard case .array(let nodes) = field.node.value else {
                        reader.report(
                            .wrongType, line: field.keyLocation.line, key: "\(section).routes",
                            "'\(section).routes' must be a list of strings",
                            hint: "write it as: routes = [\"example.com\", \"www.example.com\"]")
                        continue
                    }
                    for node in nodes {
                        guard case .string(let text) = node.value else {
                            reader.report(
                                .wrongType, line: node.location.line, key: "\(section).routes",
                                "every entry of '\(section).routes' must be a string, not a \(node.value.typeName)",
                                hint: "quote each route: routes = [\"example.com\"]")
                            continue
                        }
                        environment.routes += Self.readRoute(text, line: node.location.line, section: section, &reader)
                    }
                default:
                    if let value = Self.readVariable(field, section: section, &reader) {
                        environment.variables[field.key] = value
                    }
                }
            }
            environments.append(environment)
        }
    }

    private static func readRoute(_ text: String, line: Int, section: String, _ reader: inout ConfigReader) -> [RoutePattern] {
        do {
            return [try RoutePattern(text)]
        } catch {
            reader.report(.invalidRoute, line: line, key: section, "[\(section)] \(error.message)", hint: error.hint)
            return []
        }
    }

    private mutating func readServers(_ entry: TOMLTable.Entry, _ reader: inout ConfigReader) {
        guard let table = reader.table(entry, path: "servers") else { return }
        // Defaults first, so a [servers.<name>] table written above them still inherits them.
        for item in table.entries where !Self.isTable(item) {
            if Self.serverSettingKeys.contains(item.key) {
                serverDefaults.read(item, section: "servers", &reader)
            } else {
                reader.unknownKey(item, in: "servers", known: Self.serverSettingKeys)
            }
        }
        for item in table.entries where Self.isTable(item) {
            let section = "servers.\(item.key)"
            guard case .table(let serverTable) = item.node.value else { continue }
            if let problem = AppName.problem(with: item.key) {
                reader.report(
                    .invalidServerName, line: item.keyLocation.line, key: section,
                    "server name '\(item.key)' \(problem)",
                    hint: "use the name the server has in 'tako servers ls'")
                continue
            }
            var settings = serverDefaults
            var environment: String?
            for field in serverTable.entries {
                switch field.key {
                case "env": environment = reader.string(field, path: "\(section).env")
                case _ where Self.serverSettingKeys.contains(field.key): settings.read(field, section: section, &reader)
                default: reader.unknownKey(field, in: section, known: Self.serverMappingKeys)
                }
            }
            guard let environment else {
                if serverTable.entry("env") == nil {
                    reader.report(
                        .missingServerEnvironment, line: item.keyLocation.line, key: section,
                        "[\(section)] has no 'env'", hint: "say which environment it serves: env = \"production\"")
                }
                continue
            }
            servers.append(ServerMapping(name: item.key, environment: environment, settings: settings, line: item.keyLocation.line))
        }
    }

    private static func isTable(_ entry: TOMLTable.Entry) -> Bool {
        if case .table = entry.node.value { return true }
        return false
    }

    /// Rules that need the whole file: routes per environment and server environments.
    private func checkEnvironments(_ reader: inout ConfigReader) {
        for environment in environments where environment.name != Self.developmentEnvironment {
            if environment.routes.isEmpty && !reader.problems.contains(where: {
                $0.code == .invalidRoute && $0.key == "envs.\(environment.name)"
            }) {
                reader.report(
                    .missingRoute, line: environment.routesLine ?? environment.line, key: "envs.\(environment.name)",
                    "[envs.\(environment.name)] has no route",
                    hint: "add route = \"\(environment.name == "production" ? "" : "\(environment.name).")example.com\" (or routes = [...])")
            }
        }
        let known = Set(environments.map(\.name))
        for server in servers {
            if server.environment == Self.developmentEnvironment {
                reader.report(
                    .developmentNotDeployable, line: server.line, key: "servers.\(server.name).env",
                    "[servers.\(server.name)] serves 'development', which is only for 'tako dev' and cannot be deployed",
                    hint: "map the server to a deployable environment such as env = \"production\"")
            } else if !known.contains(server.environment) {
                reader.report(
                    .unknownEnvironment, line: server.line, key: "servers.\(server.name).env",
                    "[servers.\(server.name)] serves environment '\(server.environment)', which has no [envs.\(server.environment)]",
                    hint: "add [envs.\(server.environment)] with a route, or fix the name"
                        + (DidYouMean.suggestion(for: server.environment, among: Array(known)).map { " (did you mean '\($0)'?)" } ?? ""))
            }
        }
        for (name, _) in environmentVariables.sorted(by: { $0.key < $1.key })
        where !known.contains(name) && name != Self.developmentEnvironment {
            reader.report(
                .unknownEnvironment, line: nil, key: "vars.\(name)",
                "[vars.\(name)] is for an environment that has no [envs.\(name)]",
                hint: "add [envs.\(name)] or remove [vars.\(name)]", severity: .warning)
        }
    }
}

extension TakoConfig.ServerSettings {
    fileprivate mutating func read(_ entry: TOMLTable.Entry, section: String, _ reader: inout ConfigReader) {
        let path = "\(section).\(entry.key)"
        switch entry.key {
        case "instances": if let value = reader.integer(entry, path: path, range: 0...1000) { instances = value }
        case "port": if let value = reader.integer(entry, path: path, range: 1...65535) { port = value }
        case "idle_timeout": if let value = reader.integer(entry, path: path, range: 1...604_800) { idleTimeout = value }
        default: break
        }
    }
}
