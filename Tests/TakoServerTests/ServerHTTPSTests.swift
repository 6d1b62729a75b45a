import Foundation
import TakoTestSupport
import Testing

/// HTTPS on the real server with certificates placed in its store.
@Suite("tako-server HTTPS and redirects")
struct ServerHTTPSTests {
    @Test("a host with a certificate is served over HTTPS, and plain HTTP redirects to it")
    func httpsAndRedirect() throws {
        let ca = try TestCA()
        let server = try ServerProcess(certificates: ["web.test": try ca.issue(["web.test"])])
        let web = try server.deploy("web", version: "v1", route: "web.test")
        #expect(web.status == 0)
        #expect(web.json?["notices"] == nil, "a host with a certificate needs nothing: \(web.output)")
        let plain = try server.deploy("plain", version: "v1", route: "plain.test")
        #expect(plain.status == 0)
        let notices = plain.json?["notices"] as? [String] ?? []
        #expect(notices.count == 1 && notices[0].hasPrefix("plain.test has no certificate (issuer \"none\")"), "\(notices)")
        #expect(notices.first?.contains("certs/plain.test/") == true, "the deploy says where to place it")
        let info = try server.ctlOK(["server-info"])
        #expect(info.int("https_port") == server.httpsPort)

        let https = try Curl.run(
            ["--cacert", ca.certificatePath, "https://web.test:\(server.httpsPort)/env/TAKO_BUILD",
             "--connect-to", "web.test:\(server.httpsPort):127.0.0.1:\(server.httpsPort)"])
        #expect(https.status == 0, "\(https.errors)")
        #expect(String(decoding: https.output, as: UTF8.self) == "v1")

        let get = try server.get("web.test", "/a/b?x=1&y=2")
        #expect(get.status == 301)
        #expect(get.headers["location"] == "https://web.test:\(server.httpsPort)/a/b?x=1&y=2")
        let post = try Curl.request(port: server.httpPort, host: "web.test", path: "/form", method: "POST", body: Data("a=1".utf8))
        #expect(post.status == 308, "the method and body survive a 308")
        #expect(post.headers["location"] == "https://web.test:\(server.httpsPort)/form")
        let withPort = try Curl.request(port: server.httpPort, host: "web.test", path: "/x", headers: ["Host: WEB.test:\(server.httpPort)"])
        #expect(withPort.headers["location"] == "https://web.test:\(server.httpsPort)/x", "the Host's port and case do not matter")

        #expect(try server.get("web.test", "/_tako/status").status == 200, "status is never redirected")
        let challenge = try server.get("web.test", "/.well-known/acme-challenge/token")
        #expect(challenge.status != 301 && challenge.status != 308, "ACME challenges are never redirected")
        #expect(try server.get("plain.test", "/env/TAKO_BUILD").status == 200, "a host without a certificate stays on HTTP")
    }

    @Test("with the internal issuer, a deploy gets certificates from the host's own CA and reuses them")
    func internalIssuer() throws {
        let server = try ServerProcess(issuer: "internal")
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let caPath = server.dataDirectory.appendingPathComponent("ca/ca.crt").path
        let https = try Curl.run(
            ["--cacert", caPath, "https://web.test:\(server.httpsPort)/env/TAKO_BUILD",
             "--connect-to", "web.test:\(server.httpsPort):127.0.0.1:\(server.httpsPort)"])
        #expect(https.status == 0, "\(https.errors)")
        #expect(String(decoding: https.output, as: UTF8.self) == "v1")
        #expect(try server.get("web.test").status == 301)
        let http2 = try Curl.run(
            ["--http2", "--cacert", caPath, "https://web.test:\(server.httpsPort)/env/TAKO_BUILD",
             "--connect-to", "web.test:\(server.httpsPort):127.0.0.1:\(server.httpsPort)", "-w", " %{http_version}"])
        #expect(String(decoding: http2.output, as: UTF8.self) == "v1 2", "HTTP/2 by ALPN, to the HTTP/1.1 app: \(http2.errors)")

        let chain = server.dataDirectory.appendingPathComponent("certs/web.test/fullchain.pem")
        let first = try Data(contentsOf: chain)
        #expect(try server.deploy("web", version: "v2", route: "web.test").status == 0)
        #expect(try Data(contentsOf: chain) == first, "a valid certificate is reused, not issued again")
    }

    @Test("with ACME, a deploy obtains certificates from the CA (pebble) and serves them over HTTPS")
    func acme() throws {
        let httpPort = try Pebble.freePort()
        let pebble = try Pebble(validationPort: httpPort)
        let server = try ServerProcess(
            issuer: "acme",
            acme: "directory_url = \"\(pebble.directoryURL.absoluteString)\"\nca_root = \"\(pebble.ca.certificatePath)\"\nemail = \"ops@example.com\"",
            fixedHTTPPort: httpPort)
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        #expect(try server.deploy("api", version: "v1", route: "api.test/v1/*").status == 0)
        // Names a CA cannot validate are not asked for; the deploy says what happens to them.
        for (app, route, notice) in [
            ("wild", "*.wild.test", "*.wild.test needs a certificate placed by hand"),
            ("intranet", "intranet", "intranet gets no ACME certificate"),
            ("ip", "127.0.0.1/ip/*", "127.0.0.1 is served over plain HTTP only"),
        ] {
            let result = try server.deploy(app, version: "v1", route: route)
            let notices = result.json?["notices"] as? [String] ?? []
            #expect(notices.count == 1 && notices[0].hasPrefix(notice), "\(route): \(result.output)")
        }
        try server.waitUntil("both certificates are obtained", timeout: .seconds(60)) {
            let certificates = try server.ctlOK(["status"])["certificates"] as? [[String: Any]] ?? []
            return certificates.count == 2 && certificates.allSatisfy { $0["valid_until"] != nil && $0["issuing"] as? Bool == false }
        }
        let root = pebble.ca.directory.appendingPathComponent("root.pem")
        try pebble.issuingRoot().write(to: root, atomically: true, encoding: .utf8)
        for host in ["web.test", "api.test"] {
            let https = try Curl.run(
                ["--cacert", root.path, "https://\(host):\(server.httpsPort)/v1/env/TAKO_BUILD",
                 "--connect-to", "\(host):\(server.httpsPort):127.0.0.1:\(server.httpsPort)"])
            #expect(https.status == 0, "\(host): \(https.errors)\n\(pebble.log)")
        }
        let key = server.dataDirectory.appendingPathComponent("certs/web.test/privkey.pem").path
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let account = server.dataDirectory.appendingPathComponent("acme/account.key").path
        #expect(try FileManager.default.attributesOfItem(atPath: account)[.posixPermissions] as? Int == 0o600)

        // A redeploy reuses the certificate.
        let chain = server.dataDirectory.appendingPathComponent("certs/web.test/fullchain.pem")
        let first = try Data(contentsOf: chain)
        #expect(try server.deploy("web", version: "v2", route: "web.test").status == 0)
        #expect(try Data(contentsOf: chain) == first)
    }

    @Test("a failing validation shows in status, HTTP keeps serving, and a later retry succeeds")
    func acmeRetry() throws {
        let httpPort = try Pebble.freePort()
        let pebble = try Pebble(validationPort: httpPort)
        try pebble.dnsFails("web.test", true)
        let server = try ServerProcess(
            issuer: "acme",
            acme: "directory_url = \"\(pebble.directoryURL.absoluteString)\"\nca_root = \"\(pebble.ca.certificatePath)\"\nretry_seconds = 1",
            fixedHTTPPort: httpPort)
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        var lastError = ""
        try server.waitUntil("the failure shows in status", timeout: .seconds(60)) {
            let certificate = (try server.ctlOK(["status"])["certificates"] as? [[String: Any]])?.first
            lastError = certificate?["last_error"] as? String ?? ""
            return !lastError.isEmpty
        }
        #expect(lastError.contains("web.test"), "\(lastError)")
        #expect(try server.get("web.test", "/env/TAKO_BUILD").status == 200, "HTTP keeps serving meanwhile")
        try pebble.dnsFails("web.test", false)
        try server.waitUntil("a retry obtains the certificate", timeout: .seconds(60)) {
            let certificate = (try server.ctlOK(["status"])["certificates"] as? [[String: Any]])?.first
            return certificate?["valid_until"] != nil && certificate?["last_error"] == nil
        }
        #expect(try server.get("web.test").status == 301, "and now HTTP redirects to HTTPS")
    }

    @Test("a certificate with less than a third of its life left is renewed in the background and served at once")
    func acmeRenewal() throws {
        let httpPort = try Pebble.freePort()
        // 12 s certificates: due for renewal 8 s after issuance; the server checks every second.
        let pebble = try Pebble(validationPort: httpPort, certificateValidity: 12)
        let server = try ServerProcess(
            issuer: "acme",
            acme: "directory_url = \"\(pebble.directoryURL.absoluteString)\"\nca_root = \"\(pebble.ca.certificatePath)\"\nrenew_check_seconds = 1",
            fixedHTTPPort: httpPort)
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        func validUntil() throws -> String? {
            ((try server.ctlOK(["status"])["certificates"] as? [[String: Any]])?.first)?["valid_until"] as? String
        }
        var first: String?
        try server.waitUntil("the first certificate is obtained", timeout: .seconds(60)) {
            first = try validUntil()
            return first != nil
        }
        try server.waitUntil("the certificate is renewed", timeout: .seconds(60)) {
            let current = try validUntil()
            return current != nil && current != first
        }
        // The listener presents the certificate on disk now (renewals go on every 8 s, so the
        // two are compared until they agree).
        let chain = server.dataDirectory.appendingPathComponent("certs/web.test/fullchain.pem").path
        let fingerprint = "openssl x509 -noout -fingerprint -sha256"
        try server.waitUntil("the renewed certificate is served", timeout: .seconds(30)) {
            let served = try Program.run(
                "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(server.httpsPort) -servername web.test </dev/null 2>/dev/null | \(fingerprint)"])
            let stored = try Program.run("/bin/sh", ["-c", "\(fingerprint) -in '\(chain)'"])
            return served.status == 0 && !served.stdout.isEmpty && served.stdout == stored.stdout
        }
    }
}
