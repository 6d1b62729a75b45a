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
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        #expect(try server.deploy("plain", version: "v1", route: "plain.test").status == 0)
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
}
