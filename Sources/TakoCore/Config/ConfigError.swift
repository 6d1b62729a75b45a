/// A problem in a configuration file, located at its file and line.
///
/// Rendered as `tako.toml:7: [envs.production] sets both 'route' and 'routes'` followed by a
/// hint with the fix. Equality compares only the code, so tests can write
/// `#expect(throws: ConfigError.self)` and then check `error.code == .routeAndRoutes`.
public struct ConfigError: CodedError, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let missingFile = Code("missing-file")
        public static let unreadableFile = Code("unreadable-file")
        public static let syntax = Code("syntax")
        public static let unknownKey = Code("unknown-key")
        public static let wrongType = Code("wrong-type")
        public static let invalidValue = Code("invalid-value")
        public static let routeAndRoutes = Code("route-and-routes")
        public static let missingRoute = Code("missing-route")
        public static let invalidRoute = Code("invalid-route")
        public static let devRouteOutsideApp = Code("dev-route-outside-app")
        public static let devRouteWildcard = Code("dev-route-wildcard")
        public static let invalidAppName = Code("invalid-app-name")
        public static let noAppName = Code("no-app-name")
        public static let invalidEnvironmentName = Code("invalid-environment-name")
        public static let invalidServerName = Code("invalid-server-name")
        public static let missingServerEnvironment = Code("missing-server-env")
        public static let unknownEnvironment = Code("unknown-environment")
        public static let developmentNotDeployable = Code("development-not-deployable")
        public static let invalidVariableName = Code("invalid-variable-name")
        public static let reservedVariable = Code("reserved-variable")
        public static let duplicateServer = Code("duplicate-server")
        public static let duplicateHost = Code("duplicate-host")
        public static let unknownServer = Code("unknown-server")
    }

    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public var code: Code
    public var severity: Severity
    /// The file as the user knows it: `tako.toml`, `~/.tako/config.toml`.
    public var file: String
    public var line: Int?
    /// The dotted key the problem is about, e.g. `envs.production.route`.
    public var key: String?
    /// The problem itself, without the location.
    public var detail: String
    public var hint: String?

    public init(
        _ code: Code, file: String, line: Int? = nil, key: String? = nil, _ detail: String,
        hint: String? = nil, severity: Severity = .error
    ) {
        self.code = code
        self.file = file
        self.line = line
        self.key = key
        self.detail = detail
        self.hint = hint
        self.severity = severity
    }

    public var message: String {
        if let line { return "\(file):\(line): \(detail)" }
        return "\(file): \(detail)"
    }

}

/// Every problem found in one file. Thrown when at least one of them is an error; warnings
/// alone do not stop a command.
public struct ConfigProblems: UserFacingError, Sendable {
    public var problems: [ConfigError]

    public init(_ problems: [ConfigError]) {
        self.problems = problems
    }

    public var errors: [ConfigError] { problems.filter { $0.severity == .error } }
    public var warnings: [ConfigError] { problems.filter { $0.severity == .warning } }

    public var message: String {
        let errors = self.errors
        guard errors.count != 1 else { return errors[0].message }
        return (["\(errors.count) problems:"] + errors.map { "  \($0.message)" }).joined(separator: "\n")
    }

    public var hint: String? {
        let errors = self.errors
        if errors.count == 1 { return errors[0].hint }
        return nil
    }
}
