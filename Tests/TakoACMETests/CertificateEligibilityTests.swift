import Testing

@testable import TakoACME

@Suite("Which hosts can have a certificate")
struct CertificateEligibilityTests {
    @Test("public names are for ACME; wildcards, addresses and local names are not", arguments: [
        ("example.com", nil), ("a.b.example.com", nil), ("web.test", nil), ("1.2.3.4.example.com", nil),
        ("*.example.com", .wildcard), ("127.0.0.1", .ipAddress), ("10.0.0.255", .ipAddress), ("::1", .ipAddress),
        ("localhost", .localName), ("app.localhost", .localName), ("intranet", .localName),
        ("999.1.1.1", .localName), ("1.2.3", .localName),
    ] as [(String, CertificateEligibility.Refusal?)])
    func acme(host: String, refusal: CertificateEligibility.Refusal?) {
        #expect(CertificateEligibility.acmeRefusal(for: host) == refusal)
    }

    @Test("only IP addresses can never be served over HTTPS (no SNI)")
    func https() {
        #expect(!CertificateEligibility.canServeHTTPS("192.168.1.1"))
        #expect(CertificateEligibility.canServeHTTPS("intranet"))
        #expect(CertificateEligibility.canServeHTTPS("*.example.com"))
    }
}
