/// Variable merging (DESIGN.md §4), the one implementation every program uses:
/// `[vars]` < `[vars.<env>]` < `[envs.<env>]` keys < secrets < Tako's own.
extension TakoConfig {
    /// Names Tako sets itself; a user value for one of them is overridden (and `validate` warns).
    public static let reservedVariables: Set<String> = [
        "ENV", "TAKO_BUILD", "TAKO_APP_NAME", "TAKO_INSTANCE", "PORT", "HOST", "NODE_ENV", "BUN_ENV",
    ]

    /// The variables an app sees in `environment`, before secrets and Tako's own.
    public func userVariables(for environment: String) -> [String: String] {
        var merged = variables
        merged.merge(environmentVariables[environment] ?? [:]) { _, new in new }
        merged.merge(self.environment(named: environment)?.variables ?? [:]) { _, new in new }
        return merged
    }

    /// Everything the app's process gets: the user's variables, then `secrets`, then `tako`
    /// (Tako's own values: `ENV`, `TAKO_BUILD`, `PORT`, ...), each layer winning over the last.
    public func mergedVariables(
        for environment: String, secrets: [String: String] = [:], tako: [String: String] = [:]
    ) -> [String: String] {
        var merged = userVariables(for: environment)
        merged.merge(secrets) { _, new in new }
        merged.merge(tako) { _, new in new }
        return merged
    }

    /// Tako's own variables that do not depend on the running instance.
    public static func takoVariables(appName: String, environment: String, build: String) -> [String: String] {
        ["ENV": environment, "TAKO_BUILD": build, "TAKO_APP_NAME": appName]
    }
}
