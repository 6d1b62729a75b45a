import Foundation
import TakoTestSupport
import Testing

@Suite("tako secrets")
struct SecretsCommandTests {
    private func project() throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.write(
            "[tako]\nname = \"shop\"\n[envs.production]\nroute = \"a.com\"\n[envs.staging]\nroute = \"s.a.com\"\n",
            to: "tako.toml")
        return sandbox
    }

    @Test func setStoresAnEncryptedValueAndLsShowsOnlyNames() throws {
        let sandbox = try project()
        let set = try sandbox.tako.run(["secrets", "set", "DATABASE_URL"], stdin: "postgres://user:hunter2@db/shop\n")
        #expect(set.status == 0, "\(set.output)")
        #expect(!set.stdout.contains("hunter2") && !set.stderr.contains("hunter2"))

        let file = try sandbox.read(".tako/secrets")
        #expect(!file.contains("hunter2"))
        #expect(file.contains("DATABASE_URL"))
        #expect(try sandbox.mode(of: sandbox.project.appendingPathComponent(".tako/secrets")) == 0o600)
        let keyFile = sandbox.tako.takoHome.appendingPathComponent("keys/production")
        #expect(try sandbox.mode(of: keyFile) == 0o600)

        #expect(try sandbox.tako.run(["secrets", "set", "--env", "staging", "API_KEY"], stdin: "k\n").status == 0)
        let list = try sandbox.tako.run(["secrets", "ls"])
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains("NAME"), "\(list.output)")
        #expect(list.stdout.contains("DATABASE_URL") && list.stdout.contains("API_KEY"))
        #expect(!list.stdout.contains("hunter2"))
        #expect(list.stderr.contains("DATABASE_URL is missing in staging"), "\(list.output)")

        let json = try sandbox.tako.run(["secrets", "list", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let rows = object?["secrets"] as? [[String: Any]]
        #expect(rows?.first(where: { $0["name"] as? String == "API_KEY" })?["missing"] as? [String] == ["production"])
    }

    @Test func rmWithoutEnvRemovesFromEveryEnvironment() throws {
        let sandbox = try project()
        #expect(try sandbox.tako.run(["secrets", "set", "TOKEN"], stdin: "a\n").status == 0)
        #expect(try sandbox.tako.run(["secrets", "set", "--env", "staging", "TOKEN"], stdin: "b\n").status == 0)
        #expect(try sandbox.tako.run(["secrets", "set", "OTHER"], stdin: "c\n").status == 0)

        let one = try sandbox.tako.run(["secrets", "rm", "--env", "staging", "TOKEN"])
        #expect(one.status == 0, "\(one.output)")
        var file = try sandbox.read(".tako/secrets")
        #expect(file.contains("TOKEN"))

        let all = try sandbox.tako.run(["secrets", "delete", "TOKEN"])
        #expect(all.status == 0, "\(all.output)")
        file = try sandbox.read(".tako/secrets")
        #expect(!file.contains("TOKEN") && file.contains("OTHER"))

        let missing = try sandbox.tako.run(["secrets", "remove", "TOKEN"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no secret 'TOKEN'"), "\(missing.output)")
    }

    @Test func keyExportAndImportMoveTheKey() throws {
        let sandbox = try project()
        #expect(try sandbox.tako.run(["secrets", "set", "TOKEN"], stdin: "abc\n").status == 0)
        let export = try sandbox.tako.run(["secrets", "key", "export"])
        #expect(export.status == 0, "\(export.output)")
        #expect(export.stderr.contains("secret"), "export must warn: \(export.output)")
        let key = export.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: key)?.count == 32)

        // A teammate with an empty home imports it and can add secrets the file already opens with.
        let teammate = TakoBinary(name: "tako", home: sandbox.root.appendingPathComponent("teammate"), workingDirectory: sandbox.project)
        let imported = try teammate.run(["secrets", "key", "import"], stdin: key + "\n")
        #expect(imported.status == 0, "\(imported.output)")
        #expect(try teammate.run(["secrets", "set", "OTHER"], stdin: "x\n").status == 0)
    }

    @Test func wrongKeyIsAClearErrorNamingTheEnvironment() throws {
        let sandbox = try project()
        #expect(try sandbox.tako.run(["secrets", "set", "TOKEN"], stdin: "abc\n").status == 0)
        let other = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

        let refused = try sandbox.tako.run(["secrets", "key", "import"], stdin: other + "\n")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("production"), "\(refused.output)")

        // Forced in anyway, the wrong key cannot be used to add to the file.
        #expect(try sandbox.tako.run(["secrets", "key", "import", "--force"], stdin: other + "\n").status == 0)
        let before = try sandbox.read(".tako/secrets")
        let set = try sandbox.tako.run(["secrets", "set", "OTHER"], stdin: "x\n")
        #expect(set.status != 0)
        #expect(set.stderr.contains("production") && set.stderr.contains("TOKEN"), "\(set.output)")
        #expect(!set.stderr.contains("Error Domain") && !set.stderr.contains("CryptoKit"), "\(set.output)")
        #expect(try sandbox.read(".tako/secrets") == before)

        let validate = try sandbox.tako.run(["validate"])
        #expect(validate.status != 0)
        #expect(validate.stderr.contains("production") && validate.stderr.contains("TOKEN"), "\(validate.output)")
    }

    @Test func tamperedValueIsAClearError() throws {
        let sandbox = try project()
        #expect(try sandbox.tako.run(["secrets", "set", "TOKEN"], stdin: "abc\n").status == 0)
        let text = try sandbox.read(".tako/secrets")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: [String: String]]
        var sealed = Data(base64Encoded: object["production"]!["TOKEN"]!)!
        sealed[sealed.count / 2] ^= 0x01
        try sandbox.write(#"{"production":{"TOKEN":"\#(sealed.base64EncodedString())"}}"#, to: ".tako/secrets")

        let result = try sandbox.tako.run(["secrets", "set", "OTHER"], stdin: "x\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("TOKEN") && result.stderr.contains("production"), "\(result.output)")
    }

    @Test func badKeyInputIsRejected() throws {
        let sandbox = try project()
        let result = try sandbox.tako.run(["secrets", "key", "import"], stdin: "not a key\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("hint:"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.tako.takoHome.appendingPathComponent("keys/production").path))
    }

    @Test func exportWithoutKeyIsAnError() throws {
        let sandbox = try project()
        let result = try sandbox.tako.run(["secrets", "key", "export", "--env", "staging"])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("no key for staging"), "\(result.output)")
    }

    @Test func invalidNamesAndEmptyValuesAreRefused() throws {
        let sandbox = try project()
        let badName = try sandbox.tako.run(["secrets", "set", "1BAD-NAME"], stdin: "x\n")
        #expect(badName.status != 0)
        let empty = try sandbox.tako.run(["secrets", "set", "EMPTY"], stdin: "")
        #expect(empty.status != 0)
        #expect(empty.stderr.contains("nothing was saved"), "\(empty.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.project.appendingPathComponent(".tako/secrets").path))
    }

    @Test func missingSecretsFileWithKeysWarns() throws {
        let sandbox = try project()
        #expect(try sandbox.tako.run(["secrets", "set", "TOKEN"], stdin: "abc\n").status == 0)
        try FileManager.default.removeItem(at: sandbox.project.appendingPathComponent(".tako"))
        let result = try sandbox.tako.run(["secrets", "ls"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains(".tako/secrets is missing"), "\(result.output)")
    }

    @Test func secretsNeedATakoToml() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["secrets", "set", "X"], stdin: "y\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("tako init"), "\(result.output)")
    }
}
