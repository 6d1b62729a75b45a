import Foundation
import NIOCore
import TakoProxy
import TakoTestSupport
import Testing

@testable import TakoACME

/// The ACME client against Debian's pebble, with the HTTP-01 answers served by the real
/// proxy on the port pebble validates against.
@Suite("ACME against pebble")
struct ACMEPebbleTests {
    func withPebble(nonceReject: Int = 0, _ body: (Pebble, ChallengeResponder) async throws -> Void) async throws {
        let challenges = ChallengeResponder()
        let proxy = ProxyServer(configuration: ProxyConfiguration(eventLoops: 1), snapshots: RoutingSnapshotStore(), challenges: challenges)
        let address = try await proxy.start(host: "127.0.0.1", port: 0)
        let pebble = try Pebble(validationPort: address.port ?? 0, nonceReject: nonceReject)
        do {
            try await body(pebble, challenges)
        } catch {
            await proxy.shutdown(deadline: .seconds(1))
            throw error
        }
        await proxy.shutdown(deadline: .seconds(1))
    }

    func client(_ pebble: Pebble) throws -> ACMEClient {
        let transport = try NIOACMETransport(trustRootsPEM: try String(contentsOfFile: pebble.ca.certificatePath, encoding: .utf8))
        return ACMEClient(
            directoryURL: pebble.directoryURL, key: ACMEAccountKey(), transport: transport, email: "ops@example.com",
            pollInterval: .milliseconds(50))
    }

    @Test("a certificate for two names, verified against pebble's root")
    func issues() async throws {
        try await withPebble { pebble, challenges in
            let issued = try await client(pebble).issue(
                hosts: ["a.test", "b.test"], respond: { challenges.add(token: $0, keyAuthorization: $1) },
                withdraw: { challenges.remove(token: $0) })
            #expect(issued.notAfter > Date())
            let directory = pebble.ca.directory
            let chain = directory.appendingPathComponent("issued.pem")
            try issued.chainPEM.write(to: chain, atomically: true, encoding: .utf8)
            let root = directory.appendingPathComponent("pebble-root.pem")
            try pebble.issuingRoot().write(to: root, atomically: true, encoding: .utf8)
            // The leaf is the first certificate; the rest of the chain is untrusted help.
            let verified = try Program.run(
                "/usr/bin/env", ["openssl", "verify", "-CAfile", root.path, "-untrusted", chain.path, "-verify_hostname", "b.test", chain.path])
            #expect(verified.status == 0, "\(verified.output)")
            #expect(issued.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        }
    }

    /// A quarter of all nonces refused: a whole issuance (about 15 signed requests) meets
    /// several refusals, and ten in a row (one chance in a million per request) never.
    @Test("rejected nonces are retried (PEBBLE_WFE_NONCEREJECT=25)")
    func badNonces() async throws {
        try await withPebble(nonceReject: 25) { pebble, challenges in
            let issued = try await client(pebble).issue(
                hosts: ["n.test"], respond: { challenges.add(token: $0, keyAuthorization: $1) }, withdraw: { challenges.remove(token: $0) })
            #expect(issued.chainPEM.contains("BEGIN CERTIFICATE"))
        }
    }

    @Test("a challenge nobody answers fails with the CA's reason")
    func failedValidation() async throws {
        try await withPebble { pebble, _ in
            do {
                _ = try await client(pebble).issue(hosts: ["x.test"], respond: { _, _ in }, withdraw: { _ in })
                Issue.record("issuance without an answered challenge succeeded")
            } catch let problem as ACMEClient.Problem {
                #expect(problem.message.contains("validation of x.test failed"), "\(problem.message)")
            }
        }
    }
}
