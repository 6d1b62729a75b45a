import Foundation

/// The secrets keys on this machine: one file per environment in `{TAKO_HOME}/keys/`,
/// holding the 32-byte key as one line of base64, mode 0600 in a 0700 directory.
///
/// Environment names are checked before they become file names, so `../x` cannot reach
/// outside the keys directory.
public struct KeyStore: Hashable, Sendable {
    public let home: TakoHome

    public init(home: TakoHome) {
        self.home = home
    }

    /// The key file of `environment`, after checking the name.
    public func keyFile(environment: String) throws(SecretsError) -> URL {
        try SecretsNaming.validateEnvironment(environment)
        return home.keyFile(environment: environment)
    }

    /// Whether a key file exists for `environment` (it may still be corrupt).
    public func exists(environment: String) throws(SecretsError) -> Bool {
        FileManager.default.fileExists(atPath: try keyFile(environment: environment).path)
    }

    /// The key of `environment`, or nil when there is no key file. A key file that does not
    /// hold a valid key is an error naming the environment and the file, not a silent nil:
    /// generating a new key over it would make every existing secret unreadable.
    public func load(environment: String) throws(SecretsError) -> SecretKey? {
        let url = try keyFile(environment: environment)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) { return nil }
            throw SecretsError(
                code: .ioFailure,
                message: "Could not read the key file of environment '\(environment)' (\(url.path)).",
                hint: "Check that the file is readable by you."
            )
        }
        do {
            guard let text = String(data: data, encoding: .utf8) else {
                throw SecretsError.invalidKey
            }
            return try SecretKey(base64: text)
        } catch {
            throw SecretsError(
                code: .invalidKey,
                message: "The key file of environment '\(environment)' (\(url.path)) does not hold a valid key.",
                hint: SecretsError.importKeyHint(environment: environment)
            )
        }
    }

    /// The key of `environment`, generating and saving a new one when there is none.
    public func loadOrCreate(environment: String) throws(SecretsError) -> SecretKey {
        if let key = try load(environment: environment) { return key }
        let key = SecretKey.generate()
        try save(key, environment: environment)
        return key
    }

    /// Writes the key of `environment` (mode 0600), replacing any previous one, and makes
    /// sure the keys directory exists with mode 0700.
    public func save(_ key: SecretKey, environment: String) throws(SecretsError) {
        let url = try keyFile(environment: environment)
        let directory = home.keysDirectory
        do {
            try home.ensureExists()
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Tighten a directory that already existed with looser permissions: it holds keys.
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw SecretsError(
                code: .ioFailure,
                message: "Could not create the keys directory \(directory.path).",
                hint: "Check that \(home.root.path) is writable by you."
            )
        }
        do {
            try AtomicFile.write(key.base64 + "\n", to: url, mode: 0o600)
        } catch {
            throw SecretsError(code: .ioFailure, message: error.message, hint: error.hint)
        }
    }
}
