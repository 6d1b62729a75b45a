import Foundation
import SwiftASN1
import TakoCore
import X509

/// The certificate store on disk: `{directory}/{host}/fullchain.pem` and `privkey.pem`
/// (mode 0600), written atomically, one directory per name (`*.example.com` included).
public struct CertificateFiles: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// When the certificate stored for `host` stops being valid, and when it started (nil:
    /// none, or unreadable).
    public func validity(of host: String) -> (notBefore: Date, notAfter: Date)? {
        guard let text = try? String(contentsOfFile: "\(directory)/\(host)/fullchain.pem", encoding: .utf8),
            let end = text.range(of: "-----END CERTIFICATE-----"),
            let leaf = try? Certificate(pemEncoded: String(text[..<end.upperBound]))
        else { return nil }
        return (leaf.notValidBefore, leaf.notValidAfter)
    }

    /// Whether `host` has a certificate with more than a third of its lifetime left: it is
    /// reused, not issued again (no re-issuance storms across deploys).
    public func isFresh(_ host: String, now: Date = Date()) -> Bool {
        guard let (notBefore, notAfter) = validity(of: host) else { return false }
        return notAfter.timeIntervalSince(now) > notAfter.timeIntervalSince(notBefore) / 3
    }

    public func write(_ certificate: IssuedCertificate, for host: String) throws(UserError) {
        let folder = "\(directory)/\(host)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(Data(certificate.keyPEM.utf8), to: URL(fileURLWithPath: folder + "/privkey.pem"), mode: 0o600)
            try AtomicFile.write(Data(certificate.chainPEM.utf8), to: URL(fileURLWithPath: folder + "/fullchain.pem"), mode: 0o644)
        } catch let error as AtomicFile.WriteError {
            throw UserError(error.message, hint: error.hint)
        } catch {
            throw UserError("cannot write the certificate for \(host) in \(folder): \(error)")
        }
    }
}
