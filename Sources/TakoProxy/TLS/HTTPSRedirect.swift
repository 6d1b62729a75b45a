/// Plain HTTP is redirected to HTTPS for every host that has a certificate: 301 for GET and
/// HEAD, 308 otherwise (the method and body survive), path and query kept. ACME's HTTP-01
/// challenges and `/_tako/status` are never redirected.
///
/// A host without a certificate yet (its first certificate is still being issued, or issuing
/// failed) keeps being served over HTTP rather than redirected to a handshake that would fail.
public struct HTTPSRedirect: Sendable {
    public let store: CertificateStore
    /// The HTTPS listener's port, added to the location when it is not 443.
    public let httpsPort: Int

    public static let challengePrefix = "/.well-known/acme-challenge/"

    public init(store: CertificateStore, httpsPort: Int) {
        self.store = store
        self.httpsPort = httpsPort
    }

    /// Where a request for `host` (as the client sent it, maybe with a port) and `target`
    /// (path and query) goes instead, or nil when it is served here.
    func location(host: String, target: String) -> String? {
        guard !target.hasPrefix(Self.challengePrefix), target != "/_tako/status", !target.hasPrefix("/_tako/status?") else {
            return nil
        }
        let name = Self.withoutPort(host).lowercased()
        guard !name.isEmpty, store.context(forServerName: name) != nil else { return nil }
        let port = httpsPort == 443 ? "" : ":\(httpsPort)"
        return "https://\(name)\(port)\(target.hasPrefix("/") ? target : "/")"
    }

    private static func withoutPort(_ host: Substring) -> Substring {
        if host.hasPrefix("[") { return host.firstIndex(of: "]").map { host[...$0] } ?? host }
        return host.firstIndex(of: ":").map { host[..<$0] } ?? host
    }

    private static func withoutPort(_ host: String) -> String {
        String(withoutPort(host[...]))
    }
}
