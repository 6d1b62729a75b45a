import Crypto
import Foundation
import SwiftASN1
import TakoCore
import X509

/// A certificate signing request for the finalize step (RFC 8555 §7.4): a new P-256 key and
/// a CSR naming `hosts` as subject alternative names (the first also as common name).
public struct CertificateRequest: Sendable {
    /// DER, as ACME wants it (base64url in the finalize payload).
    public let der: [UInt8]
    /// The new certificate's private key, PEM (PKCS#8).
    public let keyPEM: String

    public init(hosts: [String]) throws(UserError) {
        guard let first = hosts.first else { throw UserError("a certificate request needs at least one name") }
        do {
            let key = P256.Signing.PrivateKey()
            let extensions = try Certificate.Extensions {
                SubjectAlternativeNames(hosts.map { .dnsName($0) })
            }
            let request = try CertificateSigningRequest(
                version: .v1, subject: try DistinguishedName { CommonName(first) },
                privateKey: .init(key), attributes: try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
                signatureAlgorithm: .ecdsaWithSHA256)
            var serializer = DER.Serializer()
            try serializer.serialize(request)
            der = serializer.serializedBytes
            keyPEM = key.pemRepresentation
        } catch {
            throw UserError("cannot make a certificate request for \(first): \(error)")
        }
    }
}
