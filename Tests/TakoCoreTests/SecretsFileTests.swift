import Foundation
import Testing

@testable import TakoCore

@Suite struct SecretsFileTests {
    @Test func missingFileLoadsAsEmpty() throws {
        try withProjectDirectory { project in
            let file = try SecretsFile.load(projectDirectory: project)
            #expect(file.environments.isEmpty)
            #expect(file.names(in: "production").isEmpty)
        }
    }

    @Test func savedFileLoadsBackWithTheSameEntries() throws {
        try withProjectDirectory { project in
            var file = SecretsFile()
            try file.set("DATABASE_URL", sealedValue: "c2VhbGVk/+==", environment: "production")
            try file.set("API_KEY", sealedValue: "b3RoZXI=", environment: "production")
            try file.set("API_KEY", sealedValue: "c3RhZ2luZw==", environment: "staging")
            try file.save(to: project)

            let loaded = try SecretsFile.load(projectDirectory: project)
            #expect(loaded == file)
            #expect(loaded.environments == ["production", "staging"])
            #expect(loaded.names(in: "production") == ["API_KEY", "DATABASE_URL"])
            #expect(loaded.sealed("DATABASE_URL", environment: "production") == "c2VhbGVk/+==")
            #expect(loaded.sealed("DATABASE_URL", environment: "staging") == nil)
        }
    }

    @Test func savedFileIsSortedPrettyJSONWithTrailingNewline() throws {
        try withProjectDirectory { project in
            var file = SecretsFile()
            try file.set("B", sealedValue: "Yg==", environment: "staging")
            try file.set("A", sealedValue: "YS9i", environment: "production")
            try file.save(to: project)
            let text = try String(contentsOf: SecretsFile.location(projectDirectory: project), encoding: .utf8)
            #expect(
                text == """
                    {
                      "production" : {
                        "A" : "YS9i"
                      },
                      "staging" : {
                        "B" : "Yg=="
                      }
                    }

                    """)
        }
    }

    @Test func savedFileHasMode0600InsideCreatedTakoDirectory() throws {
        try withProjectDirectory { project in
            var file = SecretsFile()
            try file.set("TOKEN", sealedValue: "dG9r", environment: "production")
            try file.save(to: project)
            #expect(try permissions(of: SecretsFile.location(projectDirectory: project)) == 0o600)
        }
    }

    @Test func invalidJSONIsAnErrorNamingTheFile() throws {
        try withProjectDirectory { project in
            let url = SecretsFile.location(projectDirectory: project)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            for content in ["{not json", "[1, 2]", #"{"production": {"A": 1}}"#, #"{"production": "x"}"#] {
                try Data(content.utf8).write(to: url)
                let error = try #require(throws: SecretsError.self) { try SecretsFile.load(projectDirectory: project) }
                #expect(error == .invalidFile)
                #expect(error.message.contains(url.path))
            }
        }
    }

    @Test func fileWithAnInvalidSecretNameIsRejected() throws {
        try withProjectDirectory { project in
            let url = SecretsFile.location(projectDirectory: project)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(#"{"production": {"BAD-NAME": "eA=="}}"#.utf8).write(to: url)
            let error = try #require(throws: SecretsError.self) { try SecretsFile.load(projectDirectory: project) }
            #expect(error == .invalidFile)
            #expect(error.message.contains("BAD-NAME"))
        }
    }

    @Test(arguments: ["DATABASE_URL", "_PRIVATE", "a", "Api_Key2"])
    func environmentVariableNamesAreValidSecretNames(name: String) throws {
        var file = SecretsFile()
        try file.set(name, sealedValue: "eA==", environment: "production")
        #expect(file.names(in: "production") == [name])
    }

    @Test(arguments: ["", "1ABC", "API-KEY", "API KEY", "KEY=1", "ÄPI", "A.B"])
    func otherSecretNamesAreRejected(name: String) {
        var file = SecretsFile()
        #expect(throws: SecretsError.invalidName) { try file.set(name, sealedValue: "eA==", environment: "production") }
    }

    @Test(arguments: ["", "Production", "../x", "a/b", "prod-", "-prod", String(repeating: "a", count: 64)])
    func invalidEnvironmentNamesAreRejected(environment: String) {
        var file = SecretsFile()
        #expect(throws: SecretsError.invalidEnvironment) { try file.set("A", sealedValue: "eA==", environment: environment) }
    }

    @Test func removeFromOneEnvironmentKeepsTheOthers() throws {
        var file = try SecretsFile(entries: ["production": ["A": "eA==", "B": "eQ=="], "staging": ["A": "eg=="]])
        let removed = file.remove("A", environment: "production")
        #expect(removed)
        #expect(file.names(in: "production") == ["B"])
        #expect(file.names(in: "staging") == ["A"])
        let removedAgain = file.remove("A", environment: "production")
        #expect(!removedAgain)
    }

    @Test func removeWithoutEnvironmentRemovesEverywhereAndDropsEmptyEnvironments() throws {
        var file = try SecretsFile(entries: ["production": ["A": "eA==", "B": "eQ=="], "staging": ["A": "eg=="]])
        let removed = file.remove("A")
        #expect(removed)
        #expect(file.environments == ["production"])
        #expect(file.names(in: "production") == ["B"])
        let removedMissing = file.remove("MISSING")
        #expect(!removedMissing)
    }

    @Test func decryptAllOpensEverySecretOfTheEnvironment() throws {
        let key = SecretKey.generate()
        var file = SecretsFile()
        try file.set("A", sealedValue: SecretBox.seal("alpha", key: key), environment: "production")
        try file.set("B", sealedValue: SecretBox.seal("beta", key: key), environment: "production")
        try file.set("C", sealedValue: SecretBox.seal("other", key: SecretKey.generate()), environment: "staging")
        #expect(try file.decryptAll(environment: "production", key: key) == ["A": "alpha", "B": "beta"])
        #expect(try file.decryptAll(environment: "preview", key: key) == [:])
    }

    @Test func decryptAllWithTheWrongKeyNamesTheSecret() throws {
        var file = SecretsFile()
        try file.set("ONLY", sealedValue: SecretBox.seal("value", key: SecretKey.generate()), environment: "production")
        let error = try #require(throws: SecretsError.self) {
            try file.decryptAll(environment: "production", key: SecretKey.generate())
        }
        #expect(error == .wrongKeyOrTampered)
        #expect(error.message.contains("'ONLY'") && error.message.contains("'production'"))
    }

    // MARK: Helpers

    private func withProjectDirectory(_ body: (URL) throws -> Void) throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tako-secrets-file-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        try body(url)
    }

    private func permissions(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }
}
