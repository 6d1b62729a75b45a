import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoCore
@testable import TakoDev
@testable import TakoProxy

@Suite("The dev CA mints a leaf per name")
struct DevCertificateAuthorityTests {
    @Test("a dev name gets a leaf on first sight that verifies against the CA; other names are refused")
    func mintsBySNI() async throws {
        let home = TakoHome(root: FileManager.default.temporaryDirectory.appendingPathComponent("tako-dev-ca-\(UUID().uuidString.prefix(8))"))
        let authority = try DevCertificateAuthority(home: home)
        let key = home.root.appendingPathComponent("ca/ca.key").path
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let store = authority.store { $0 == "web.tako.local" || $0.hasSuffix(".web.tako.local") }
        let server = ProxyServer(
            configuration: ProxyConfiguration(eventLoops: 1),
            snapshots: RoutingSnapshotStore(RoutingSnapshot(routes: try RouteTable([:]), apps: [:])))
        let port = try await server.start(host: "127.0.0.1", port: 0, tls: store).port ?? 0

        for name in ["web.tako.local", "api.web.tako.local", "web.tako.local"] {
            let result = try Curl.run(
                ["-o", "/dev/null", "-w", "%{http_code}", "--cacert", authority.certificatePath,
                 "https://\(name):\(port)/", "--connect-to", "\(name):\(port):127.0.0.1:\(port)"])
            #expect(result.status == 0, "\(name): \(result.errors)")
            #expect(String(decoding: result.output, as: UTF8.self) == "404", "no app yet, but trusted HTTPS")
        }
        #expect(authority.mintedCount == 2, "one leaf per name, kept for later handshakes")

        let refused = try Curl.run(
            ["-o", "/dev/null", "--cacert", authority.certificatePath, "https://other.example:\(port)/",
             "--connect-to", "other.example:\(port):127.0.0.1:\(port)"])
        #expect(refused.status != 0)
        #expect(authority.mintedCount == 2)

        // The CA is made once: a second load is the same CA.
        let again = try DevCertificateAuthority(home: home)
        let first = try String(contentsOfFile: authority.certificatePath, encoding: .utf8)
        #expect(try String(contentsOfFile: again.certificatePath, encoding: .utf8) == first)
        await server.shutdown(deadline: .seconds(2))
    }
}
