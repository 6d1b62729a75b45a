import Crypto
import Foundation
import TakoTestSupport
import Testing

@testable import TakoACME

@Suite("ACME account key, JWS and CSR")
struct ACMEAccountKeyTests {
    let key = ACMEAccountKey()

    private func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a JWS carries the JWK before there is an account, the kid after, and verifies with the JWK's key")
    func jws() throws {
        let payload = Data(#"{"termsOfServiceAgreed":true}"#.utf8)
        let signed = try object(try key.sign(payload: payload, url: "https://ca.test/new-acct", nonce: "n0nce", kid: nil))
        let protected = try object(try #require(Base64URL.decode(signed["protected"] as? String ?? "")))
        #expect(protected["alg"] as? String == "ES256")
        #expect(protected["nonce"] as? String == "n0nce")
        #expect(protected["url"] as? String == "https://ca.test/new-acct")
        #expect(protected["kid"] == nil)
        let jwk = try #require(protected["jwk"] as? [String: String])
        #expect(Base64URL.decode(signed["payload"] as? String ?? "") == payload)

        // Verify with a key rebuilt from the JWK alone.
        var point = Data([0x04])
        point += try #require(Base64URL.decode(jwk["x"] ?? ""))
        point += try #require(Base64URL.decode(jwk["y"] ?? ""))
        let publicKey = try P256.Signing.PublicKey(x963Representation: point)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Base64URL.decode(signed["signature"] as? String ?? "")))
        let input = Data("\(signed["protected"] as? String ?? "").\(signed["payload"] as? String ?? "")".utf8)
        #expect(publicKey.isValidSignature(signature, for: input))

        let withKid = try object(try key.sign(payload: nil, url: "https://ca.test/order/1", nonce: "n2", kid: "https://ca.test/acct/7"))
        let header = try object(try #require(Base64URL.decode(withKid["protected"] as? String ?? "")))
        #expect(header["kid"] as? String == "https://ca.test/acct/7" && header["jwk"] == nil)
        #expect(withKid["payload"] as? String == "", "POST-as-GET has an empty payload")
    }

    @Test("the thumbprint is RFC 7638's, computed here by python from the JWK")
    func thumbprint() throws {
        let members = Dictionary(uniqueKeysWithValues: key.jwk)
        let script = """
            import base64, hashlib, json, sys
            jwk = json.loads(sys.stdin.read())
            canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
            print(base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("="), end="")
            """
        let input = try JSONSerialization.data(withJSONObject: members)
        let result = try Program.run("/usr/bin/env", ["python3", "-c", script], stdin: input)
        #expect(result.stdout == key.thumbprint, "\(result.output)")
        #expect(key.keyAuthorization(token: "tok") == "tok." + key.thumbprint)
    }

    @Test("the key survives a round trip through PEM")
    func pem() throws {
        let again = try ACMEAccountKey(pem: key.pem)
        #expect(again.thumbprint == key.thumbprint)
    }

    @Test("the CSR names every host and is signed by its key (openssl checks it)")
    func csr() throws {
        let request = try CertificateRequest(hosts: ["web.test", "www.web.test"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("csr-\(UUID().uuidString.prefix(8)).der")
        try Data(request.der).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let checked = try Program.run("/usr/bin/env", ["openssl", "req", "-inform", "DER", "-in", file.path, "-verify", "-noout", "-text"])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.stdout.contains("DNS:web.test, DNS:www.web.test"), "\(checked.stdout)")
        #expect(checked.stdout.contains("CN = web.test") || checked.stdout.contains("CN=web.test"))
        #expect(request.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }
}

@Suite("ACME transport")
struct ACMETransportTests {
    @Test("an unreachable CA is an error, not a crash (no promise is left behind)")
    func unreachable() async throws {
        let transport = try NIOACMETransport()
        let port = try Pebble.freePort()
        await #expect(throws: (any Error).self) {
            _ = try await transport.send(method: "GET", url: URL(string: "https://127.0.0.1:\(port)/dir")!, body: nil, contentType: nil)
        }
    }
}
