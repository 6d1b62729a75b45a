import Foundation
import Testing

@testable import TakoCore

@Suite("Server inventory")
struct ServerInventoryTests {
    private func file(_ text: String?) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-inventory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("config.toml")
        if let text { try text.write(to: url, atomically: true, encoding: .utf8) }
        return url
    }

    @Test func missingFileIsAnEmptyInventory() throws {
        let inventory = try ServerInventory.load(file: try file(nil))
        #expect(inventory.servers.isEmpty)
    }

    @Test func readsEntriesWithDefaults() throws {
        let inventory = try ServerInventory.load(
            file: try file("[[servers]]\nname = \"la\"\nhost = \"1.2.3.4\"\n\n[[servers]]\nname = \"sf\"\nhost = \"sf.example.com\"\nport = 2222\nuser = \"deploy\"\ndescription = \"SF\"\n"))
        #expect(inventory.servers == [
            ServerEntry(name: "la", host: "1.2.3.4"),
            ServerEntry(name: "sf", host: "sf.example.com", port: 2222, user: "deploy", description: "SF"),
        ])
    }

    @Test(arguments: [
        ("[[servers]]\nname = \"a\"\nhost = \"h1\"\n[[servers]]\nname = \"a\"\nhost = \"h2\"\n", ConfigError.Code.duplicateServer, 4),
        ("[[servers]]\nname = \"a\"\nhost = \"h1\"\n[[servers]]\nname = \"b\"\nhost = \"H1\"\n", .duplicateHost, 4),
        ("[[servers]]\nname = \"a\"\nhost = \"h1\"\nprot = 22\n", .unknownKey, 4),
        ("[[servers]]\nname = \"a\"\n", .invalidValue, 1),
        ("[[servers]]\nname = \"a\"\nhost = \"h\"\nport = 0\n", .invalidValue, 4),
        ("[[servers]]\nname = \"a\"\nhost = h\n", .syntax, 3),
        ("servers = 1\n", .wrongType, 1),
    ])
    func invalidFilesAreLocatedErrors(text: String, code: ConfigError.Code, line: Int) throws {
        let url = try file(text)
        #expect {
            try ServerInventory.load(file: url)
        } throws: { error in
            let problem = (error as? ConfigProblems)?.problems.first { $0.code == code }
            return problem?.line == line
        }
    }

    @Test func addAppendsAndKeepsComments() throws {
        let original = "# my servers\n[[servers]]\nname = \"la\" # LA box\nhost = \"1.2.3.4\"\n"
        let url = try file(original)
        var inventory = try ServerInventory.load(file: url)
        #expect(try inventory.add(ServerEntry(name: "sf", host: "sf.example.com", description: "say \"hi\"\n")) == .added)
        try inventory.save()
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix(original))
        #expect(try ServerInventory.load(file: url).servers.last?.description == "say \"hi\"\n")
    }

    @Test func addingTheSameEntryTwiceChangesNothing() throws {
        var inventory = try ServerInventory.load(file: try file(nil))
        #expect(try inventory.add(ServerEntry(name: "la", host: "h")) == .added)
        #expect(try inventory.add(ServerEntry(name: "la", host: "h")) == .unchanged)
        #expect(throws: InventoryError.self) { try inventory.add(ServerEntry(name: "la", host: "other")) }
        #expect(throws: InventoryError.self) { try inventory.add(ServerEntry(name: "other", host: "H")) }
    }

    @Test func removeTakesOnlyThatBlock() throws {
        let url = try file(
            """
            # header comment
            [[servers]]
            name = "a"
            host = "a.example.com"
            description = \"\"\"
            [[servers]]
            not a header\"\"\"

            # about b
            [[servers]]
            name = "b"
            host = "b.example.com"

            [settings]
            theme = "dark"
            """)
        var inventory = try ServerInventory.load(file: url)
        #expect(try inventory.remove(named: "a"))
        #expect(try !inventory.remove(named: "zzz"))
        try inventory.save()
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("# header comment"))
        #expect(text.contains("# about b"))
        #expect(text.contains("[settings]\ntheme = \"dark\""))
        #expect(!text.contains("a.example.com"))
        #expect(try ServerInventory.load(file: url).servers.map(\.name) == ["b"])
    }

    @Test func savedFileIsPrivate() throws {
        let url = try file(nil)
        var inventory = try ServerInventory.load(file: url)
        _ = try inventory.add(ServerEntry(name: "la", host: "h"))
        try inventory.save()
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }
}
