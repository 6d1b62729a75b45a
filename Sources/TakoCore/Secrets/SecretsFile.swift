import Foundation

/// The project's `.tako/secrets`: for each environment, each secret's name and its sealed
/// value (`{env: {NAME: base64(nonce ‖ ciphertext ‖ tag)}}`, DESIGN §3).
///
/// Names stay in plain text so the file can be committed and reviewed; only values are
/// encrypted (see ``SecretBox``). This is a plain value: load it, change it, save it. It
/// never holds plaintext or keys.
public struct SecretsFile: Hashable, Sendable {
    /// Environment name → secret name → sealed value.
    public private(set) var entries: [String: [String: String]]

    /// An empty file: no environment has secrets.
    public init() {
        entries = [:]
    }

    /// Builds a file from entries, checking every environment and secret name.
    public init(entries: [String: [String: String]]) throws(SecretsError) {
        for (environment, secrets) in entries {
            try SecretsNaming.validateEnvironment(environment)
            for name in secrets.keys { try SecretsNaming.validateSecretName(name) }
        }
        self.entries = entries
    }

    /// Where the file lives in a project.
    public static func location(projectDirectory: URL) -> URL {
        projectDirectory
            .appendingPathComponent(".tako", isDirectory: true)
            .appendingPathComponent("secrets")
    }

    /// Reads `.tako/secrets` from `projectDirectory`. A missing file is an empty one: a
    /// project that never set a secret has none.
    public static func load(projectDirectory: URL) throws(SecretsError) -> SecretsFile {
        let url = location(projectDirectory: projectDirectory)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) { return SecretsFile() }
            throw SecretsError(
                code: .ioFailure,
                message: "Could not read \(url.path).",
                hint: "Check that the file is readable by you."
            )
        }
        return try parse(data, path: url.path)
    }

    /// Parses the file's JSON; `path` is named in errors.
    static func parse(_ data: Data, path: String) throws(SecretsError) -> SecretsFile {
        let decoded: [String: [String: String]]
        do {
            decoded = try JSONDecoder().decode([String: [String: String]].self, from: data)
        } catch {
            throw SecretsError(
                code: .invalidFile,
                message: "\(path) is not a valid secrets file: expected a JSON object of environments, each an object of secret names to sealed values.",
                hint: "Restore it from version control, or delete it and set the secrets again with 'tako secrets set'."
            )
        }
        do {
            return try SecretsFile(entries: decoded)
        } catch {
            throw SecretsError(
                code: .invalidFile,
                message: "\(path) is not a valid secrets file: \(error.message)",
                hint: error.hint
            )
        }
    }

    /// The environments that have at least one secret, sorted.
    public var environments: [String] {
        entries.filter { !$0.value.isEmpty }.keys.sorted()
    }

    /// The secret names of one environment, sorted; empty when it has none.
    public func names(in environment: String) -> [String] {
        (entries[environment] ?? [:]).keys.sorted()
    }

    /// The sealed value of one secret, when it exists.
    public func sealed(_ name: String, environment: String) -> String? {
        entries[environment]?[name]
    }

    /// Adds or replaces one secret's sealed value.
    public mutating func set(_ name: String, sealedValue: String, environment: String) throws(SecretsError) {
        try SecretsNaming.validateSecretName(name)
        try SecretsNaming.validateEnvironment(environment)
        entries[environment, default: [:]][name] = sealedValue
    }

    /// Removes a secret from one environment, or from every environment when
    /// `environment` is nil. Environments left without secrets disappear from the file.
    /// Returns whether anything was removed.
    @discardableResult
    public mutating func remove(_ name: String, environment: String? = nil) -> Bool {
        let targets = environment.map { [$0] } ?? Array(entries.keys)
        var removed = false
        for target in targets {
            guard entries[target]?.removeValue(forKey: name) != nil else { continue }
            removed = true
            if entries[target]?.isEmpty == true { entries[target] = nil }
        }
        return removed
    }

    /// Opens every secret of `environment` with `key`. Fails on the first secret that does
    /// not open, naming it, so a wrong key is reported before anything is deployed.
    public func decryptAll(environment: String, key: SecretKey) throws(SecretsError) -> [String: String] {
        var values: [String: String] = [:]
        for name in names(in: environment) {
            guard let sealed = entries[environment]?[name] else { continue }
            values[name] = try SecretBox.open(sealed, key: key, environment: environment, name: name)
        }
        return values
    }

    /// The file's bytes: pretty-printed JSON with sorted keys and a trailing newline, so
    /// the committed file changes only where a secret changed.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        // Base64 contains '/', which JSONEncoder would otherwise write as '\/'.
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let kept = entries.filter { !$0.value.isEmpty }
        do {
            var data = try encoder.encode(kept)
            data.append(UInt8(ascii: "\n"))
            return data
        } catch {
            // Encoding a dictionary of strings cannot fail.
            preconditionFailure("encoding the secrets file failed: \(error)")
        }
    }

    /// Writes `.tako/secrets` atomically with mode 0600, creating `.tako/` when missing.
    public func save(to projectDirectory: URL) throws(SecretsError) {
        let url = Self.location(projectDirectory: projectDirectory)
        do {
            try AtomicFile.write(encoded(), to: url, mode: 0o600)
        } catch {
            throw SecretsError(code: .ioFailure, message: error.message, hint: error.hint)
        }
    }
}

extension SecretsFile {
    /// Checks a secret name before anything is asked or written.
    public static func validateName(_ name: String) throws(SecretsError) {
        try SecretsNaming.validateSecretName(name)
    }
}
