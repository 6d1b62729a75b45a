/// Which route hosts can have a certificate, and from whom.
///
/// - IP addresses: none. Clients send no server name (SNI) for an address, and the HTTPS
///   listener serves no certificate without one, so such routes stay on HTTP.
/// - `localhost`, `*.localhost`, single-label names and numeric TLDs: no public CA issues for them, so the
///   ACME issuer does not ask (the internal issuer does).
/// - Wildcards: HTTP-01 cannot validate them; ACME needs a certificate placed by hand.
public enum CertificateEligibility {
    public enum Refusal: Sendable, Equatable {
        case ipAddress
        case localName
        case wildcard
    }

    /// Why ACME (HTTP-01) cannot obtain a certificate for `host`; nil when it can.
    public static func acmeRefusal(for host: String) -> Refusal? {
        if isIPAddress(host) { return .ipAddress }
        if host.hasPrefix("*.") { return .wildcard }
        if isLocalName(host) { return .localName }
        return nil
    }

    /// Whether any issuer's certificate could be used for `host`.
    public static func canServeHTTPS(_ host: String) -> Bool {
        !isIPAddress(host)
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }  // IPv6 (route hosts carry no port)
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
        }
    }

    /// Names no public CA issues for: one label, `localhost` and below, or a numeric
    /// top-level label (no such TLD exists).
    static func isLocalName(_ host: String) -> Bool {
        let name = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
        guard let last = name.split(separator: ".").last else { return true }
        return !name.contains(".") || name == "localhost" || name.hasSuffix(".localhost") || last.allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
