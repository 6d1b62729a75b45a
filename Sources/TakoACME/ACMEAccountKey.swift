import Crypto
import Foundation

/// An ACME account key (ECDSA P-256) and the JSON Web Signatures made with it (RFC 8555 §6.2,
/// RFC 7515 flattened serialization, ES256).
public struct ACMEAccountKey: Sendable {
    let key: P256.Signing.PrivateKey

    public init() {
        key = P256.Signing.PrivateKey()
    }

    public init(pem: String) throws {
        key = try P256.Signing.PrivateKey(pemRepresentation: pem)
    }

    public var pem: String { key.pemRepresentation }

    /// The public key as a JWK, members in the lexicographic order RFC 7638 requires.
    public var jwk: [(String, String)] {
        let point = key.publicKey.x963Representation  // 0x04 || X || Y
        return [
            ("crv", "P-256"), ("kty", "EC"),
            ("x", Base64URL.encode(point[1..<33])), ("y", Base64URL.encode(point[33..<65])),
        ]
    }

    /// RFC 7638 thumbprint: base64url(SHA-256 of the JWK's required members, sorted, no spaces).
    public var thumbprint: String {
        Base64URL.encode(Data(SHA256.hash(data: Data(Self.json(jwk).utf8))))
    }

    /// The key authorization an HTTP-01 challenge answers with (RFC 8555 §8.1).
    public func keyAuthorization(token: String) -> String {
        token + "." + thumbprint
    }

    /// A JWS for `url`: `payload` (nil for POST-as-GET, an empty payload), signed, with the
    /// account URL (`kid`) once there is one, else the JWK itself (newAccount).
    public func sign(payload: Data?, url: String, nonce: String, kid: String?) throws -> Data {
        // Members whose values are already JSON.
        var header: [(String, String)] = [("alg", Self.quoted("ES256"))]
        header.append(kid.map { ("kid", Self.quoted($0)) } ?? ("jwk", Self.json(jwk)))
        header.append(("nonce", Self.quoted(nonce)))
        header.append(("url", Self.quoted(url)))
        let protected = "{" + header.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        let protected64 = Base64URL.encode(Data(protected.utf8))
        let payload64 = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.signature(for: Data((protected64 + "." + payload64).utf8))
        let body = "{\"protected\":\"\(protected64)\",\"payload\":\"\(payload64)\",\"signature\":\"\(Base64URL.encode(signature.rawRepresentation))\"}"
        return Data(body.utf8)
    }

    /// `{"a":"b",...}` from already-sorted string members.
    static func json(_ members: [(String, String)]) -> String {
        "{" + members.map { "\"\($0.0)\":" + quoted($0.1) }.joined(separator: ",") + "}"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}

/// Base64 without padding, URL alphabet (RFC 4648 §5), as JOSE uses it.
public enum Base64URL {
    public static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
