import Crypto
import Foundation
import SwiftASN1
import TakoCore
import X509

/// A certificate authority kept on this machine: the internal issuer of `tako-server`
/// (`[tls] issuer = "internal"`, as Caddy's `tls internal`) and, later, the dev daemon's CA.
///
/// `ca.crt` (PEM, shareable: it is what clients trust) and `ca.key` (PEM, mode 0600) live in
/// one directory, made once. Leaves are ECDSA P-256 with the name as their only subject
/// alternative name, for server authentication only.
public final class LocalCA: Sendable {
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey
    public let directory: String

    public var certificatePath: String { directory + "/ca.crt" }

    /// How long leaves are valid. Short enough that a leaked key ages out, long enough that
    /// re-issuing (when less than a third remains) is rare.
    public static let leafLifetime: TimeInterval = 90 * 24 * 3600
    static let caLifetime: TimeInterval = 10 * 365 * 24 * 3600

    private init(certificate: Certificate, key: P256.Signing.PrivateKey, directory: String) {
        self.certificate = certificate
        self.key = key
        self.directory = directory
    }

    /// The CA in `directory`, made (and written, key 0600) when there is none.
    public static func loadOrCreate(directory: String, name: String) throws(UserError) -> LocalCA {
        let certificatePath = directory + "/ca.crt"
        let keyPath = directory + "/ca.key"
        if FileManager.default.fileExists(atPath: certificatePath) {
            do {
                let certificate = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
                let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
                return LocalCA(certificate: certificate, key: key, directory: directory)
            } catch {
                throw UserError(
                    "the certificate authority in \(directory) cannot be read: \(error)",
                    hint: "restore ca.crt and ca.key, or move the directory aside to make a new CA (clients must then trust the new one)")
            }
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName {
                OrganizationName("Tako")
                CommonName(name)
            }
            let now = Date()
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(caLifetime),
                issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                },
                issuerPrivateKey: .init(key))
            try AtomicFile.write(Data(key.pemRepresentation.utf8), to: URL(fileURLWithPath: keyPath), mode: 0o600)
            try AtomicFile.write(Data(try certificate.serializeAsPEM().pemString.utf8), to: URL(fileURLWithPath: certificatePath), mode: 0o644)
            return LocalCA(certificate: certificate, key: key, directory: directory)
        } catch let error as UserError {
            throw error
        } catch let error as any UserFacingError {
            throw UserError(error.message, hint: error.hint)
        } catch {
            throw UserError("cannot make a certificate authority in \(directory): \(error)", hint: "check that the directory is writable")
        }
    }

    /// A new leaf for `host` (`example.com` or `*.example.com`): its chain (leaf, then this
    /// CA) and private key, PEM.
    public func issue(for host: String, now: Date = Date()) throws(UserError) -> IssuedCertificate {
        do {
            let leafKey = P256.Signing.PrivateKey()
            let notAfter = now.addingTimeInterval(Self.leafLifetime)
            let leaf = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: notAfter,
                issuer: certificate.subject, subject: try DistinguishedName { CommonName(host) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames([.dnsName(host)])
                    AuthorityKeyIdentifier(keyIdentifier: try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                },
                issuerPrivateKey: .init(key))
            let chain = try leaf.serializeAsPEM().pemString + "\n" + certificate.serializeAsPEM().pemString + "\n"
            return IssuedCertificate(chainPEM: chain, keyPEM: leafKey.pemRepresentation, notAfter: notAfter)
        } catch {
            throw UserError("cannot issue a certificate for \(host): \(error)")
        }
    }
}

/// A certificate as the store keeps it.
public struct IssuedCertificate: Sendable {
    public var chainPEM: String
    public var keyPEM: String
    public var notAfter: Date
}
