import Foundation
import Testing

@testable import TakoCore

@Suite struct KeyStoreTests {
    @Test func missingKeyLoadsAsNil() throws {
        try withKeyStore { (store: KeyStore) throws in
            #expect(try store.load(environment: "production") == nil)
            #expect(try !store.exists(environment: "production"))
        }
    }

    @Test func loadOrCreateGeneratesOnceAndThenReturnsTheSameKey() throws {
        try withKeyStore { store in
            let created = try store.loadOrCreate(environment: "production")
            #expect(try store.exists(environment: "production"))
            #expect(try store.loadOrCreate(environment: "production") == created)
            #expect(try store.load(environment: "production") == created)
            #expect(try store.loadOrCreate(environment: "staging") != created)
        }
    }

    @Test func keyFileIsMode0600InsideKeysDirectoryWithMode0700() throws {
        try withKeyStore { store in
            _ = try store.loadOrCreate(environment: "production")
            #expect(try permissions(of: store.home.keyFile(environment: "production")) == 0o600)
            #expect(try permissions(of: store.home.keysDirectory) == 0o700)
        }
    }

    @Test func savingTightensAnExistingLooseKeysDirectory() throws {
        try withKeyStore { store in
            try FileManager.default.createDirectory(
                at: store.home.keysDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try store.save(SecretKey.generate(), environment: "production")
            #expect(try permissions(of: store.home.keysDirectory) == 0o700)
        }
    }

    @Test func keyFileHoldsOneLineOfBase64() throws {
        try withKeyStore { store in
            let key = SecretKey.generate()
            try store.save(key, environment: "production")
            let text = try String(contentsOf: store.home.keyFile(environment: "production"), encoding: .utf8)
            #expect(text == key.base64 + "\n")
        }
    }

    @Test func corruptKeyFileIsAnErrorNamingTheEnvironmentAndFile() throws {
        try withKeyStore { store in
            let url = store.home.keyFile(environment: "production")
            try FileManager.default.createDirectory(at: store.home.keysDirectory, withIntermediateDirectories: true)
            for content in [Data("not a key\n".utf8), Data([0xff, 0xfe, 0x00]), Data(Data(count: 16).base64EncodedString().utf8)] {
                try content.write(to: url)
                let error = try #require(throws: SecretsError.self) { try store.load(environment: "production") }
                #expect(error == .invalidKey)
                #expect(error.message.contains("'production'"))
                #expect(error.message.contains(url.path))
                // A corrupt key is never silently replaced.
                #expect(throws: SecretsError.invalidKey) { try store.loadOrCreate(environment: "production") }
            }
        }
    }

    @Test func takoHomeEnvironmentVariableDecidesWhereKeysLive() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tako-keystore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let takoHome = base.appendingPathComponent("custom-home")
        let userHome = base.appendingPathComponent("user")
        let home = TakoHome(environment: ["TAKO_HOME": takoHome.path, "HOME": userHome.path])
        let key = try KeyStore(home: home).loadOrCreate(environment: "production")

        let expected = takoHome.appendingPathComponent("keys").appendingPathComponent("production")
        #expect(FileManager.default.fileExists(atPath: expected.path))
        #expect(!FileManager.default.fileExists(atPath: userHome.appendingPathComponent(".tako").path))
        #expect(try KeyStore(home: TakoHome(root: takoHome)).load(environment: "production") == key)
    }

    @Test(arguments: ["../x", "..", "a/b", "", "Production", "prod-", String(repeating: "a", count: 64)])
    func environmentNamesThatCouldEscapeOrAreInvalidAreRejected(environment: String) throws {
        try withKeyStore { store in
            #expect(throws: SecretsError.invalidEnvironment) { try store.save(SecretKey.generate(), environment: environment) }
            #expect(throws: SecretsError.invalidEnvironment) { try store.load(environment: environment) }
            #expect(throws: SecretsError.invalidEnvironment) { try store.loadOrCreate(environment: environment) }
            #expect(!FileManager.default.fileExists(atPath: store.home.root.path))
        }
    }

    @Test(arguments: ["production", "staging", "pr-42", "a", String(repeating: "a", count: 63)])
    func validEnvironmentNamesAreAccepted(environment: String) throws {
        try withKeyStore { store in
            try store.save(SecretKey.generate(), environment: environment)
            #expect(try store.exists(environment: environment))
        }
    }

    // MARK: Helpers

    private func withKeyStore(_ body: (KeyStore) throws -> Void) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tako-keystore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        try body(KeyStore(home: TakoHome(root: base.appendingPathComponent("home"))))
    }

    private func permissions(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }
}
