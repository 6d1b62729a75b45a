import Foundation
import TakoACME
import TakoCore
import TakoProxy

/// The dev daemon's local CA (`{TAKO_HOME}/ca/ca.crt`, its key 0600 beside it): made once,
/// then trusted by the system and browsers, it signs a leaf for each dev name the first time
/// a browser asks for it (SNI), so every `*.tako.local` URL is trusted HTTPS.
public final class DevCertificateAuthority: Sendable {
    public static let name = "Tako Dev CA"

    public let ca: LocalCA
    private let minted = Locked<Int>(0)

    public init(home: TakoHome) throws(UserError) {
        ca = try LocalCA.loadOrCreate(directory: home.root.appendingPathComponent("ca").path, name: Self.name)
    }

    public var certificatePath: String { ca.certificatePath }

    /// How many leaves this CA has signed since it was loaded (for `tako doctor` and tests).
    public var mintedCount: Int { minted.withLock { $0 } }

    /// A certificate store that mints a leaf for each name `allows` accepts, on first sight.
    public func store(allowing allows: @escaping @Sendable (String) -> Bool) -> CertificateStore {
        let ca = self.ca
        let minted = self
        return CertificateStore(issuer: { name in
            guard allows(name), let leaf = try? ca.issue(for: name) else { return nil }
            minted.countOne()
            return (Array(leaf.chainPEM.utf8), Array(leaf.keyPEM.utf8))
        })
    }

    private func countOne() {
        minted.withLock { $0 += 1 }
    }
}
