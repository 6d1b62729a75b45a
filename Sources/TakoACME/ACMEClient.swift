import Foundation
import SwiftASN1
import TakoCore
import X509

/// An ACME v2 client (RFC 8555) for HTTP-01: account, order, authorizations, finalize with
/// a CSR, certificate download. Nonces are reused from responses; a `badNonce` refusal is
/// retried with a fresh one.
public actor ACMEClient {
    /// A problem document from the CA (RFC 8555 §6.7), or a protocol failure.
    public struct Problem: UserFacingError, Sendable {
        public var type: String
        public var detail: String
        public var status: Int
        public var message: String { "the ACME server refused: \(detail) (\(type))" }
        public var hint: String? { nil }
    }

    private struct Directory: Decodable {
        var newNonce: URL
        var newAccount: URL
        var newOrder: URL
    }

    public let directoryURL: URL
    private let key: ACMEAccountKey
    private let transport: any ACMETransport
    private let email: String?
    private let pollInterval: Duration
    private var directory: Directory?
    private var nonces: [String] = []
    private var accountURL: String?

    public init(directoryURL: URL, key: ACMEAccountKey, transport: any ACMETransport, email: String? = nil, pollInterval: Duration = .milliseconds(500)) {
        self.directoryURL = directoryURL
        self.key = key
        self.transport = transport
        self.email = email
        self.pollInterval = pollInterval
    }

    /// Obtains a certificate for `hosts`. `respond(token, keyAuthorization)` must make the
    /// answer reachable at `http://{host}/.well-known/acme-challenge/{token}` before it
    /// returns; `withdraw(token)` is called when the challenge is over.
    public func issue(
        hosts: [String], respond: @Sendable (String, String) -> Void, withdraw: @Sendable (String) -> Void,
        timeout: Duration = .seconds(120)
    ) async throws -> IssuedCertificate {
        let deadline = ContinuousClock.now + timeout
        let account = try await ensureAccount()
        let identifiers = hosts.map { ["type": "dns", "value": $0] }
        let (orderResponse, orderObject) = try await post(try await directoryOrFetch().newOrder, json: ["identifiers": identifiers], kid: account)
        guard let orderURL = orderResponse.header("location").flatMap(URL.init(string:)),
            let authorizations = orderObject["authorizations"] as? [String],
            let finalize = (orderObject["finalize"] as? String).flatMap(URL.init(string:))
        else { throw protocolError("the new order is missing its location, authorizations or finalize URL") }

        for authorization in authorizations.compactMap(URL.init(string:)) {
            let (_, authz) = try await post(authorization, json: nil, kid: account)
            if authz["status"] as? String == "valid" { continue }
            let challenges = authz["challenges"] as? [[String: Any]] ?? []
            guard let challenge = challenges.first(where: { $0["type"] as? String == "http-01" }),
                let token = challenge["token"] as? String, let url = (challenge["url"] as? String).flatMap(URL.init(string:))
            else { throw protocolError("the CA offered no http-01 challenge for \(Self.identifier(of: authz))") }
            respond(token, key.keyAuthorization(token: token))
            defer { withdraw(token) }
            _ = try await post(url, json: [String: String](), kid: account)
            let final = try await poll(authorization, account: account, until: ["valid", "invalid"], deadline: deadline)
            guard final["status"] as? String == "valid" else {
                let problem = (final["challenges"] as? [[String: Any]])?.compactMap { $0["error"] as? [String: Any] }.first
                throw Problem(
                    type: problem?["type"] as? String ?? "urn:ietf:params:acme:error:unauthorized",
                    detail: "validation of \(Self.identifier(of: final)) failed: \(problem?["detail"] as? String ?? "no detail")",
                    status: 403)
            }
        }

        let request = try CertificateRequest(hosts: hosts)
        _ = try await post(finalize, json: ["csr": Base64URL.encode(request.der)], kid: account)
        let order = try await poll(orderURL, account: account, until: ["valid", "invalid"], deadline: deadline)
        guard order["status"] as? String == "valid", let certificateURL = (order["certificate"] as? String).flatMap(URL.init(string:)) else {
            throw protocolError("the order ended \(order["status"] as? String ?? "without a status")")
        }
        let (certificate, _) = try await post(certificateURL, json: nil, kid: account, expectJSON: false)
        let chain = String(decoding: certificate.body, as: UTF8.self)
        guard let end = chain.range(of: "-----END CERTIFICATE-----"),
            let leaf = try? Certificate(pemEncoded: String(chain[..<end.upperBound]))
        else { throw protocolError("the downloaded certificate is not PEM") }
        return IssuedCertificate(chainPEM: chain, keyPEM: request.keyPEM, notAfter: leaf.notValidAfter)
    }

    // MARK: Account

    private func ensureAccount() async throws -> String {
        if let accountURL { return accountURL }
        var payload: [String: Any] = ["termsOfServiceAgreed": true]
        if let email { payload["contact"] = ["mailto:" + email] }
        let (response, _) = try await post(try await directoryOrFetch().newAccount, json: payload, kid: nil)
        guard let location = response.header("location") else { throw protocolError("the new account has no location") }
        accountURL = location
        return location
    }

    // MARK: Requests

    private func directoryOrFetch() async throws -> Directory {
        if let directory { return directory }
        let response = try await transport.send(method: "GET", url: directoryURL, body: nil, contentType: nil)
        guard response.status == 200, let directory = try? JSONDecoder().decode(Directory.self, from: response.body) else {
            throw protocolError("\(directoryURL.absoluteString) is not an ACME directory (HTTP \(response.status))")
        }
        self.directory = directory
        return directory
    }

    private func nonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let response = try await transport.send(method: "HEAD", url: try await directoryOrFetch().newNonce, body: nil, contentType: nil)
        guard let nonce = response.header("replay-nonce") else { throw protocolError("the CA sent no nonce") }
        return nonce
    }

    /// A signed POST (`json` nil: POST-as-GET); retries a `badNonce` refusal up to 10 times
    /// (each retry uses the fresh nonce the refusal carried).
    private func post(_ url: URL, json: Any?, kid: String?, expectJSON: Bool = true) async throws -> (ACMEResponse, [String: Any]) {
        let payload = try json.map { try JSONSerialization.data(withJSONObject: $0, options: [.withoutEscapingSlashes]) }
        for _ in 0..<10 {
            let body = try key.sign(payload: payload, url: url.absoluteString, nonce: try await nonce(), kid: kid)
            let response = try await transport.send(method: "POST", url: url, body: body, contentType: "application/jose+json")
            if let nonce = response.header("replay-nonce") { nonces.append(nonce) }
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
            if response.status >= 400 {
                let type = object["type"] as? String ?? ""
                if type == "urn:ietf:params:acme:error:badNonce" { continue }
                throw Problem(type: type, detail: object["detail"] as? String ?? "HTTP \(response.status)", status: response.status)
            }
            if expectJSON, object.isEmpty, !response.body.isEmpty { throw protocolError("\(url.absoluteString) did not answer JSON") }
            return (response, object)
        }
        throw protocolError("the CA rejected ten nonces in a row")
    }

    private func poll(_ url: URL, account: String, until states: Set<String>, deadline: ContinuousClock.Instant) async throws -> [String: Any] {
        while true {
            let (_, object) = try await post(url, json: nil, kid: account)
            if let status = object["status"] as? String, states.contains(status) { return object }
            guard ContinuousClock.now < deadline else { throw protocolError("\(url.absoluteString) did not finish in time") }
            try await Task.sleep(for: pollInterval)
        }
    }

    private func protocolError(_ detail: String) -> Problem {
        Problem(type: "tako:protocol", detail: detail, status: 0)
    }

    private static func identifier(of authorization: [String: Any]) -> String {
        (authorization["identifier"] as? [String: Any])?["value"] as? String ?? "a name"
    }
}
