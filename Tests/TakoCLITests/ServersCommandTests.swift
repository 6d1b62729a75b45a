import Foundation
import TakoTestSupport
import Testing

@Suite("tako servers")
struct ServersCommandTests {
    @Test func addListAndRemove() throws {
        let sandbox = try Sandbox()
        let empty = try sandbox.tako.run(["servers", "ls"])
        #expect(empty.status == 0)
        #expect(empty.stderr.contains("tako servers add"), "\(empty.output)")

        let add = try sandbox.tako.run(["servers", "add", "203.0.113.10", "--name", "la", "--description", "Los Angeles", "--no-check"])
        #expect(add.status == 0, "\(add.output)")
        #expect(add.stderr.contains("not checked"), "\(add.output)")

        let list = try sandbox.tako.run(["servers", "list"])
        #expect(list.stdout.contains("la") && list.stdout.contains("203.0.113.10") && list.stdout.contains("Los Angeles"))

        let json = try sandbox.tako.run(["servers", "ls", "--json"])
        let servers = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(servers?.first?["port"] as? Int == 22)
        #expect(servers?.first?["user"] as? String == "tako")

        let again = try sandbox.tako.run(["servers", "add", "203.0.113.10", "--name", "la", "--description", "Los Angeles", "--no-check"])
        #expect(again.status == 0, "adding the same server twice is idempotent: \(again.output)")

        let clash = try sandbox.tako.run(["servers", "add", "203.0.113.11", "--name", "la", "--no-check"])
        #expect(clash.status != 0)
        #expect(clash.stderr.contains("already exists"), "\(clash.output)")
        let sameHost = try sandbox.tako.run(["servers", "add", "203.0.113.10", "--name", "other", "--no-check"])
        #expect(sameHost.status != 0)

        let refused = try sandbox.tako.run(["servers", "rm", "la"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--yes"), "\(refused.output)")

        let removed = try sandbox.tako.run(["servers", "delete", "la", "--yes"])
        #expect(removed.status == 0, "\(removed.output)")
        let after = try sandbox.tako.run(["servers", "ls", "--json"])
        #expect(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || after.stdout.contains("[]"), "\(after.output)")
    }

    @Test func editsKeepTheUsersComments() throws {
        let sandbox = try Sandbox()
        let config = sandbox.tako.takoHome.appendingPathComponent("config.toml")
        try FileManager.default.createDirectory(at: sandbox.tako.takoHome, withIntermediateDirectories: true)
        try """
            # My servers — keep this comment.
            [[servers]]
            name = "a"  # the first one
            host = "a.example.com"

            # The second box.
            [[servers]]
            name = "b"
            host = "b.example.com"
            port = 2222
            """.write(to: config, atomically: true, encoding: .utf8)

        #expect(try sandbox.tako.run(["servers", "add", "c.example.com", "--name", "c", "--user", "deploy", "--no-check"]).status == 0)
        #expect(try sandbox.tako.run(["servers", "rm", "a", "--yes"]).status == 0)
        let text = try String(contentsOf: config, encoding: .utf8)
        #expect(text.contains("# My servers — keep this comment."))
        #expect(text.contains("# The second box."))
        #expect(!text.contains("a.example.com"))
        #expect(text.contains("port = 2222"))
        #expect(text.contains("user = \"deploy\""))
        let list = try sandbox.tako.run(["servers", "ls"])
        #expect(list.stdout.contains("b.example.com") && list.stdout.contains("c.example.com"), "\(list.output)")
    }

    @Test func corruptInventoryIsReportedWithItsLineAndNeverOverwritten() throws {
        let sandbox = try Sandbox()
        let config = sandbox.tako.takoHome.appendingPathComponent("config.toml")
        try FileManager.default.createDirectory(at: sandbox.tako.takoHome, withIntermediateDirectories: true)
        let corrupt = "[[servers]]\nname = \"a\"\nhost = a.example.com\n"
        try corrupt.write(to: config, atomically: true, encoding: .utf8)

        let list = try sandbox.tako.run(["servers", "ls"])
        #expect(list.status != 0)
        #expect(list.stderr.contains("config.toml:3:"), "\(list.output)")

        let add = try sandbox.tako.run(["servers", "add", "b.example.com", "--name", "b", "--no-check"])
        #expect(add.status != 0)
        #expect(try String(contentsOf: config, encoding: .utf8) == corrupt)
    }

    @Test func deletedTakoHomeIsRecreated() throws {
        let sandbox = try Sandbox()
        #expect(!FileManager.default.fileExists(atPath: sandbox.tako.takoHome.path))
        #expect(try sandbox.tako.run(["servers", "add", "h.example.com", "--name", "h", "--no-check"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: sandbox.tako.takoHome.appendingPathComponent("config.toml").path))
        try FileManager.default.removeItem(at: sandbox.tako.takoHome)
        #expect(try sandbox.tako.run(["servers", "add", "h.example.com", "--name", "h", "--no-check"]).status == 0)
    }

    @Test(arguments: [
        ["servers", "add", "-oProxyCommand=x", "--name", "evil"],
        ["servers", "add", "h.example.com", "--name", "Bad_Name"],
        ["servers", "add", "h.example.com", "--name", "ok", "--port", "70000"],
        ["servers", "add", "h example.com", "--name", "ok"],
        ["servers", "add", "h.example.com", "--name", "ok", "--user", "-l"],
    ])
    func badServerInputIsRefused(arguments: [String]) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(arguments)
        #expect(result.status != 0, "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.tako.takoHome.appendingPathComponent("config.toml").path))
    }
}
