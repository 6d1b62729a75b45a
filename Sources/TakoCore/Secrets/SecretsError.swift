/// Why a secrets operation failed, worded for the person who has to fix it.
///
/// Equality and hashing look at ``code`` only (the swift-certificates and
/// swift-service-lifecycle shape), so a test can write
/// `#expect(throws: SecretsError.wrongKeyOrTampered) { ... }` while the message stays free
/// to name the file, the environment and the secret. A message never contains a secret's
/// value or a key.
public struct SecretsError: CodedError, Sendable {
    /// The kind of failure. A struct rather than an enum so new kinds can be added without
    /// breaking callers that switch over the existing ones.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case wrongKeyOrTampered = "wrong key or tampered value"
            case malformedValue = "malformed sealed value"
            case invalidKey = "invalid key"
            case invalidFile = "invalid secrets file"
            case invalidName = "invalid secret name"
            case invalidEnvironment = "invalid environment name"
            case missingKey = "missing key"
            case ioFailure = "file system failure"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Authentication failed: the key is not the one the value was sealed with, or the
        /// value was changed after sealing.
        public static let wrongKeyOrTampered = Code(.wrongKeyOrTampered)
        /// The stored value is not base64, or too short to hold a nonce and a tag.
        public static let malformedValue = Code(.malformedValue)
        /// A key (typed, imported or read from a key file) is not 32 bytes of base64.
        public static let invalidKey = Code(.invalidKey)
        /// `.tako/secrets` is not the JSON Tako writes.
        public static let invalidFile = Code(.invalidFile)
        /// A secret name is not an environment variable name.
        public static let invalidName = Code(.invalidName)
        /// An environment name is not `[a-z][a-z0-9-]*` (at most 63 characters).
        public static let invalidEnvironment = Code(.invalidEnvironment)
        /// No key exists for an environment that has secrets.
        public static let missingKey = Code(.missingKey)
        /// Reading or writing a file failed.
        public static let ioFailure = Code(.ioFailure)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(code: Code, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

}

extension SecretsError {
    // A bare code as an error value, for `#expect(throws: SecretsError.invalidKey)`.
    public static let wrongKeyOrTampered = SecretsError(code: .wrongKeyOrTampered, message: "wrong key or tampered value")
    public static let malformedValue = SecretsError(code: .malformedValue, message: "malformed sealed value")
    public static let invalidKey = SecretsError(code: .invalidKey, message: "invalid key")
    public static let invalidFile = SecretsError(code: .invalidFile, message: "invalid secrets file")
    public static let invalidName = SecretsError(code: .invalidName, message: "invalid secret name")
    public static let invalidEnvironment = SecretsError(code: .invalidEnvironment, message: "invalid environment name")
    public static let missingKey = SecretsError(code: .missingKey, message: "missing key")
    public static let ioFailure = SecretsError(code: .ioFailure, message: "file system failure")

    /// The hint for every failure that the right key would fix.
    static func importKeyHint(environment: String) -> String {
        "Import the right key with 'tako secrets key import --env \(environment)'."
    }
}
