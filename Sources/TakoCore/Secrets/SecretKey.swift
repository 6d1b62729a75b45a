import Crypto
import Foundation

/// The AES-256 key that seals one environment's secrets.
///
/// It is kept in `{TAKO_HOME}/keys/{env}` as one line of base64 and shared between the
/// people who deploy that environment. The type goes out of its way not to be printed:
/// `description`, `debugDescription` and `dump` all show `SecretKey(redacted)`, so a key
/// cannot end up in a log line or an error message by string interpolation. Only
/// ``base64`` gives the key material out, and only on purpose.
public struct SecretKey: Sendable, Equatable {
    /// AES-256 keys are 32 bytes.
    public static let byteCount = 32

    let symmetricKey: SymmetricKey

    init(symmetricKey: SymmetricKey) {
        self.symmetricKey = symmetricKey
    }

    /// A fresh random key from the system's secure random generator.
    public static func generate() -> SecretKey {
        SecretKey(symmetricKey: SymmetricKey(size: .bits256))
    }

    /// Reads a key as written in a key file or pasted by a person: base64 of 32 bytes,
    /// surrounding whitespace and newlines ignored.
    public init(base64: String) throws(SecretsError) {
        let trimmed = base64.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed) else {
            throw SecretsError(
                code: .invalidKey,
                message: "The secrets key is not valid base64.",
                hint: "A key is 32 random bytes written as one line of base64 (44 characters), as 'tako secrets key export' prints it."
            )
        }
        guard bytes.count == Self.byteCount else {
            throw SecretsError(
                code: .invalidKey,
                message: "The secrets key is \(bytes.count) bytes long; a key must be \(Self.byteCount) bytes.",
                hint: "A key is 32 random bytes written as one line of base64 (44 characters), as 'tako secrets key export' prints it."
            )
        }
        self.init(symmetricKey: SymmetricKey(data: bytes))
    }

    /// The key as one line of base64, the form key files and `key export` use.
    public var base64: String {
        symmetricKey.withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

extension SecretKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SecretKey(redacted)" }
    public var debugDescription: String { "SecretKey(redacted)" }
    // Without this, `dump(key)` would walk into the stored bytes.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
