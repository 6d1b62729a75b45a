import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// A ClientHello as a client would send it: TLS 1.2 record, the fields a real one has, and
/// optionally the server_name extension (split over two records when `split`).
private func clientHello(serverName: String?, split: Bool = false) -> [UInt8] {
    var extensions: [UInt8] = []
    if let serverName {
        let name = Array(serverName.utf8)
        let entry: [UInt8] = [0x00] + be16(name.count) + name
        let list = be16(entry.count) + entry
        extensions += [0x00, 0x00] + be16(list.count) + list
    }
    extensions += [0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]  // ec_point_formats
    var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 7, count: 32)
    body += [0x20] + [UInt8](repeating: 1, count: 32)  // session id
    body += be16(4) + [0xc0, 0x2b, 0xc0, 0x2f]  // two cipher suites
    body += [0x01, 0x00]  // compression: null
    body += be16(extensions.count) + extensions
    let handshake: [UInt8] = [0x01, 0x00] + be16(body.count) + body
    guard split else { return [0x16, 0x03, 0x01] + be16(handshake.count) + handshake }
    let half = handshake.count / 2
    return [0x16, 0x03, 0x01] + be16(half) + Array(handshake[..<half])
        + [0x16, 0x03, 0x01] + be16(handshake.count - half) + Array(handshake[half...])
}

private func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

@Suite("TLS: ClientHello server name")
struct ClientHelloTests {
    @Test("the server name is read, lower-cased, without a trailing dot")
    func serverName() {
        #expect(ClientHello.parse(clientHello(serverName: "App.Example.COM.")) == .complete(serverName: "app.example.com"))
        #expect(ClientHello.parse(clientHello(serverName: nil)) == .complete(serverName: nil))
        #expect(ClientHello.parse(clientHello(serverName: "a.test", split: true)) == .complete(serverName: "a.test"))
    }

    @Test("every prefix of a hello is incomplete, never a wrong answer")
    func prefixes() {
        let hello = clientHello(serverName: "a.test", split: true)
        for length in 0..<hello.count {
            #expect(ClientHello.parse(hello.prefix(length)) == .incomplete, "prefix \(length)")
        }
    }

    @Test(
        "anything else is invalid",
        arguments: [
            Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
            [0x16, 0x03, 0x01, 0x00, 0x00],  // empty record
            [0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00],  // a ServerHello
            [0x16, 0x03, 0x01, 0xff, 0xff] + [UInt8](repeating: 0, count: 20),  // record over the limit
        ])
    func invalid(bytes: [UInt8]) {
        #expect(ClientHello.parse(bytes) == .invalid)
    }

    @Test("a name with bytes no host name has matches nothing")
    func oddName() {
        #expect(ClientHello.parse(clientHello(serverName: "a b.test")) == .complete(serverName: nil))
        #expect(ClientHello.parse(clientHello(serverName: "a\u{0}.test")) == .complete(serverName: nil))
    }

    @Test("lengths that point past the data are invalid, not a crash")
    func truncatedFields() {
        var hello = clientHello(serverName: "a.test")
        hello[5 + 4 + 2 + 32] = 0xff  // session id length far too long
        #expect(ClientHello.parse(hello) == .invalid)
    }
}

@Suite("TLS: the HTTPS listener")
struct TLSListenerTests {
    let ca: TestCA
    let store: CertificateStore

    init() throws {
        ca = try TestCA()
        store = try .issued(by: ca, for: ["a.test", "*.w.test"])
    }

    func proxy(_ web: UpstreamProcess) async throws -> (RunningProxy, Int) {
        try await RunningProxy.https(serving: web, hosts: ["a.test", "*.w.test", "w.test", "nope.test"], tls: store)
    }

    func curl(_ host: String, port: Int, _ extra: [String] = []) throws -> (status: Int32, output: Data, errors: String) {
        try Curl.run(
            ["-s", "-S", "--cacert", ca.certificatePath, "https://\(host):\(port)/hello",
             "--connect-to", "\(host):\(port):127.0.0.1:\(port)"] + extra)
    }

    @Test("exact and wildcard names get their certificate and reach the app over HTTPS")
    func servesNames() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        for host in ["a.test", "x.w.test"] {
            let result = try curl(host, port: port)
            #expect(result.status == 0, "\(host): \(result.errors)")
            let json = try JSONSerialization.jsonObject(with: result.output) as? [String: Any]
            let headers = json?["headers"] as? [String: String]
            #expect(headers?["x-forwarded-proto"] == "https", "\(json ?? [:])")
        }
        await proxy.stop()
    }

    @Test(
        "a name without a certificate is refused with unrecognized_name, never another certificate",
        arguments: ["nope.test", "w.test", "a.b.w.test"])
    func refusesUnknownNames(host: String) async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let result = try Program.run(
            "/usr/bin/env", ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", host], stdin: Data())
        #expect(result.status != 0)
        #expect(result.stderr.contains("unrecognized name") || result.stderr.contains("alert number 112"), "\(result.output)")
        #expect(!result.stdout.contains("BEGIN CERTIFICATE"), "no certificate was presented")
        await proxy.stop()
    }

    @Test("a handshake without SNI is refused the same way")
    func refusesNoSNI() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let result = try Program.run(
            "/usr/bin/env", ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-noservername"], stdin: Data())
        #expect(result.status != 0)
        #expect(result.stderr.contains("unrecognized name") || result.stderr.contains("alert number 112"), "\(result.output)")
        await proxy.stop()
    }

    @Test("TLS 1.1 and CBC ciphers are refused; TLS 1.2 with AEAD (in the server's order) and TLS 1.3 work")
    func protocolPolicy() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        #expect(try curl("a.test", port: port, ["--tls-max", "1.1", "--tlsv1.0"]).status != 0)
        #expect(try curl("a.test", port: port, ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA"]).status != 0)
        #expect(try curl("a.test", port: port, ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"]).status == 0)
        #expect(try curl("a.test", port: port, ["--tlsv1.3"]).status == 0)
        // The server's order decides: a client that prefers ChaCha20 gets AES-128-GCM, the
        // server's first choice it also supports.
        let chosen = try Program.run(
            "/usr/bin/env",
            ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "a.test", "-tls1_2",
             "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"],
            stdin: Data())
        #expect(chosen.stdout.contains("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"), "\(chosen.output)")
        await proxy.stop()
    }

    @Test("plain HTTP on the HTTPS port is closed")
    func plainHTTP() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let (data, closed) = client.readToEnd()
        #expect(closed && data.isEmpty)
        await proxy.stop()
    }

    @Test("a certificate is replaced for new handshakes without a restart")
    func replace() async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let other = try TestCA()
        let replacement = try other.issue(["a.test"])
        try store.install(host: "a.test", chainPEM: replacement.chain, keyPEM: replacement.key)
        #expect(try curl("a.test", port: port).status != 0, "the old CA no longer verifies it")
        let result = try Curl.run(
            ["-s", "-S", "--cacert", other.certificatePath, "https://a.test:\(port)/hello",
             "--connect-to", "a.test:\(port):127.0.0.1:\(port)"])
        #expect(result.status == 0, "\(result.errors)")
        await proxy.stop()
    }
}

@Suite("ACME HTTP-01 answers")
struct ChallengeResponderTests {
    @Test("a pending token is answered on plain HTTP for any host; others reach the app or 404")
    func answers() async throws {
        let web = try UpstreamProcess(name: "web")
        let challenges = ChallengeResponder()
        challenges.add(token: "tok-123", keyAuthorization: "tok-123.thumbprint")
        let proxy = try await RunningProxy(routes: ["web": ["a.test"]], upstreams: ["web": [web.address]], challenges: challenges)
        for host in ["a.test", "unrouted.test"] {
            let response = try Curl.request(port: proxy.port, host: host, path: "/.well-known/acme-challenge/tok-123")
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "tok-123.thumbprint")
            #expect(response.headers["content-type"] == "text/plain")
        }
        let unknown = try Curl.request(port: proxy.port, host: "a.test", path: "/.well-known/acme-challenge/other")
        #expect(unknown.json?["app"] as? String == "web", "an unknown token is the app's business")
        #expect(try Curl.request(port: proxy.port, host: "unrouted.test", path: "/.well-known/acme-challenge/other").status == 404)
        challenges.remove(token: "tok-123")
        #expect(try Curl.request(port: proxy.port, host: "unrouted.test", path: "/.well-known/acme-challenge/tok-123").status == 404)
        await proxy.stop()
    }
}
