import Foundation
import TakoTestSupport
import Testing

@testable import TakoACME

@Suite("Local certificate authority")
struct LocalCATests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-localca-\(UUID().uuidString.prefix(8))").path

    @Test("made once: the key is 0600, a second load is the same CA")
    func createAndLoad() throws {
        let ca = try LocalCA.loadOrCreate(directory: directory + "/ca", name: "Test CA")
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/ca/ca.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try LocalCA.loadOrCreate(directory: directory + "/ca", name: "Test CA")
        #expect(again.certificate == ca.certificate)
    }

    @Test("leaves verify against the CA for their name only, wildcards included", arguments: ["app.test", "*.apps.test"])
    func leaves(host: String) throws {
        let ca = try LocalCA.loadOrCreate(directory: directory + "/ca", name: "Test CA")
        let files = CertificateFiles(directory: directory + "/certs")
        try files.write(try ca.issue(for: host), for: host)
        let leaf = directory + "/certs/\(host)/fullchain.pem"
        let name = host.replacingOccurrences(of: "*", with: "x")
        let verified = try Program.run(
            "/usr/bin/env", ["openssl", "verify", "-CAfile", ca.certificatePath, "-purpose", "sslserver", "-verify_hostname", name, leaf])
        #expect(verified.status == 0, "\(verified.output)")
        let other = try Program.run(
            "/usr/bin/env", ["openssl", "verify", "-CAfile", ca.certificatePath, "-verify_hostname", "other.example", leaf])
        #expect(other.status != 0, "not valid for another name")
        let key = try FileManager.default.attributesOfItem(atPath: directory + "/certs/\(host)/privkey.pem")[.posixPermissions] as? Int
        #expect(key == 0o600)
    }

    @Test("a certificate is fresh until two thirds of its life have passed")
    func freshness() throws {
        let ca = try LocalCA.loadOrCreate(directory: directory + "/ca", name: "Test CA")
        let files = CertificateFiles(directory: directory + "/certs")
        #expect(!files.isFresh("app.test"), "none yet")
        try files.write(try ca.issue(for: "app.test"), for: "app.test")
        #expect(files.isFresh("app.test"))
        let lifetime = LocalCA.leafLifetime
        #expect(files.isFresh("app.test", now: Date().addingTimeInterval(lifetime * 0.6)))
        #expect(!files.isFresh("app.test", now: Date().addingTimeInterval(lifetime * 0.7)))
    }
}
