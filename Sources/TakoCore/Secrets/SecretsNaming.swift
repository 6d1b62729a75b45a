/// The name rules for secrets and environments, kept in one place so the secrets file, the
/// key store and the CLI agree.
enum SecretsNaming {
    /// Secret names become environment variables of the app process, so they follow the
    /// POSIX shell rule `[A-Za-z_][A-Za-z0-9_]*`.
    static func isValidSecretName(_ name: String) -> Bool {
        VariableName.isValid(name)
    }

    /// Environment names follow the app-name rule (``AppName``: `[a-z][a-z0-9-]*`, at most
    /// 63 characters, no trailing `-`). The name is also a file name under `keys/`, so the
    /// rule is what keeps `../x` or `a/b` from escaping that directory.
    static func isValidEnvironment(_ name: String) -> Bool {
        AppName.isValid(name)
    }

    static func validateSecretName(_ name: String) throws(SecretsError) {
        guard isValidSecretName(name) else {
            throw SecretsError(
                code: .invalidName,
                message: "'\(name)' is not a valid secret name.",
                hint: "Secret names are environment variable names: letters, digits and '_', not starting with a digit (e.g. DATABASE_URL)."
            )
        }
    }

    static func validateEnvironment(_ name: String) throws(SecretsError) {
        if let problem = AppName.problem(with: name) {
            throw SecretsError(
                code: .invalidEnvironment,
                message: "'\(name)' is not a valid environment name: it \(problem).",
                hint: "Environment names use lowercase letters, digits and '-', start with a letter, do not end with '-' and have at most 63 characters (e.g. production)."
            )
        }
    }
}
