import Crypto
import Foundation

/// Seals and opens one secret value: AES-256-GCM, a fresh random 12-byte nonce per seal,
/// stored as `base64(nonce ‖ ciphertext ‖ tag)` (DESIGN §3).
///
/// Each value is sealed on its own, so adding or changing one secret touches one line of
/// `.tako/secrets` and review diffs stay readable. No associated data is used: the format
/// is exactly nonce, ciphertext and 16-byte tag, so any AES-GCM implementation can read it.
///
/// Opening never returns garbage: GCM authenticates the value, and every failure (wrong
/// key, a changed byte, a truncated or non-base64 value) becomes a ``SecretsError`` that
/// names the environment and the secret but never contains the value.
public enum SecretBox {
    static let nonceByteCount = 12
    static let tagByteCount = 16

    /// Seals `plaintext` (as UTF-8) with `key` under a new random nonce.
    public static func seal(_ plaintext: String, key: SecretKey) -> String {
        seal(Data(plaintext.utf8), key: key, nonce: AES.GCM.Nonce())
    }

    /// The sealing step with the nonce passed in, so tests can pin it; production code
    /// always goes through ``seal(_:key:)`` and a fresh nonce.
    static func seal(_ plaintext: Data, key: SecretKey, nonce: AES.GCM.Nonce) -> String {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: key.symmetricKey, nonce: nonce)
        } catch {
            // Sealing only fails for nonce or key sizes we never produce.
            preconditionFailure("AES-256-GCM sealing with a 32-byte key and a 12-byte nonce failed: \(error)")
        }
        var combined = Data(box.nonce)
        combined.append(box.ciphertext)
        combined.append(box.tag)
        return combined.base64EncodedString()
    }

    /// Opens a value sealed by ``seal(_:key:)``.
    ///
    /// - Parameters:
    ///   - environment: named in the error so the user knows which key to import.
    ///   - name: the secret's name, named in the error.
    public static func open(_ sealed: String, key: SecretKey, environment: String, name: String) throws(SecretsError) -> String {
        let malformed = SecretsError(
            code: .malformedValue,
            message: "The stored value of secret '\(name)' for environment '\(environment)' is not a sealed secret (not base64, or too short).",
            hint: "The secrets file was edited by hand or damaged. Set the secret again with 'tako secrets set \(name) --env \(environment)'."
        )
        guard let combined = Data(base64Encoded: sealed.trimmingCharacters(in: .whitespacesAndNewlines)),
            combined.count >= nonceByteCount + tagByteCount
        else {
            throw malformed
        }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            plaintext = try AES.GCM.open(box, using: key.symmetricKey)
        } catch {
            throw SecretsError(
                code: .wrongKeyOrTampered,
                message: "Could not decrypt secret '\(name)' for environment '\(environment)': the key does not match or the value was modified.",
                hint: SecretsError.importKeyHint(environment: environment)
            )
        }
        guard let text = String(data: plaintext, encoding: .utf8) else {
            // Authentic, but not something `seal` wrote: another tool sealed binary data.
            throw SecretsError(
                code: .malformedValue,
                message: "Secret '\(name)' for environment '\(environment)' decrypted to bytes that are not UTF-8 text.",
                hint: "Set the secret again with 'tako secrets set \(name) --env \(environment)'."
            )
        }
        return text
    }
}
