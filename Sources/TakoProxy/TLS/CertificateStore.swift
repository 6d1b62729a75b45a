import CTakoBoringSSL
import Foundation
import NIOSSL
import TakoCore

/// The certificates the HTTPS listener serves, chosen by the name a client asks for: the
/// exact name, then the `*.parent` wildcard, else none (the handshake is refused; no other
/// name's certificate is ever presented).
///
/// Each certificate becomes its own TLS context when installed; installing a new one for a
/// name swaps it for new handshakes while open connections keep theirs, so certificates are
/// added and replaced without a restart or a dropped connection.
public final class CertificateStore: Sendable {
    /// Makes a certificate for a name no installed certificate covers (the dev daemon's local
    /// CA mints leaves this way); nil refuses the name. Called during the handshake.
    public typealias Issuer = @Sendable (_ name: String) -> (chainPEM: [UInt8], keyPEM: [UInt8])?

    private let contexts = Locked<[String: NIOSSLContext]>([:])
    private let applicationProtocols: [String]
    private let issuer: Issuer?

    /// `applicationProtocols` are offered by ALPN in order of preference: HTTP/2 first, and
    /// HTTP/1.1 for clients (and WebSockets) that do not speak it. With an `issuer`, a name
    /// without a certificate gets one from it on first sight, kept for later handshakes.
    public init(applicationProtocols: [String] = ["h2", "http/1.1"], issuer: Issuer? = nil) {
        self.applicationProtocols = applicationProtocols
        self.issuer = issuer
    }

    /// The names with a certificate, sorted.
    public var hosts: [String] { contexts.withLock { $0.keys.sorted() } }

    /// Installs (or replaces) the certificate for `host` (`example.com` or `*.example.com`)
    /// from PEM: the chain, leaf first, and its private key.
    public func install(host: String, chainPEM: [UInt8], keyPEM: [UInt8]) throws(UserError) {
        let context: NIOSSLContext
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(chainPEM)
            guard !chain.isEmpty else { throw UserError("no certificate in the chain") }
            let key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
            context = try NIOSSLContext(configuration: Self.configuration(chain: chain, key: key, protocols: applicationProtocols))
            Self.preferServerCiphers(context)
        } catch {
            throw UserError(
                "the certificate for \(host) cannot be used: \((error as? UserError)?.message ?? "\(error)")",
                hint: "the chain must be PEM, leaf first, with the leaf's private key")
        }
        contexts.withLock { $0[host.lowercased()] = context }
    }

    public func remove(host: String) {
        _ = contexts.withLock { $0.removeValue(forKey: host.lowercased()) }
    }

    /// Installs every `{directory}/{host}/fullchain.pem` + `privkey.pem`; returns the problems
    /// by host (one bad certificate never keeps the others out).
    @discardableResult
    public func loadDirectory(_ directory: String) -> [String: String] {
        var problems: [String: String] = [:]
        let hosts = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for host in hosts.sorted() {
            let chain = FileManager.default.contents(atPath: "\(directory)/\(host)/fullchain.pem")
            let key = FileManager.default.contents(atPath: "\(directory)/\(host)/privkey.pem")
            guard let chain, let key else { continue }
            do {
                try install(host: host, chainPEM: Array(chain), keyPEM: Array(key))
            } catch {
                problems[host] = error.message
            }
        }
        return problems
    }

    /// The context for a handshake that asked for `serverName`; nil refuses it.
    func context(forServerName serverName: String?) -> NIOSSLContext? {
        guard let name = serverName else { return nil }
        if let found = installed(forServerName: name) { return found }
        guard let issuer, let minted = issuer(name) else { return nil }
        guard (try? install(host: name, chainPEM: minted.chainPEM, keyPEM: minted.keyPEM)) != nil else { return nil }
        return contexts.withLock { $0[name] }
    }

    private func installed(forServerName name: String) -> NIOSSLContext? {
        contexts.withLock { contexts in
            if let exact = contexts[name] { return exact }
            guard let dot = name.firstIndex(of: "."), name.index(after: dot) < name.endIndex else { return nil }
            return contexts["*" + name[dot...]]
        }
    }

    /// The server's cipher order decides (TLS 1.2), not the client's. NIOSSL keeps its
    /// `SSL_CTX` private, so it is read by reflection; the TLS tests check the order is
    /// honoured, so a NIOSSL that renames the field fails there rather than silently.
    static func preferServerCiphers(_ context: NIOSSLContext) {
        let field = Mirror(reflecting: context).children.first { $0.label == "sslContext" }
        guard let sslContext = field?.value as? OpaquePointer else { return }
        tako_ssl_ctx_prefer_server_ciphers(UnsafeMutableRawPointer(sslContext))
    }

    /// TLS 1.2 and 1.3 only; for 1.2, ECDHE key exchange with AEAD ciphers only (1.3's suites
    /// are all AEAD).
    static func configuration(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, protocols: [String]) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = [
            .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        configuration.applicationProtocols = protocols
        return configuration
    }
}
