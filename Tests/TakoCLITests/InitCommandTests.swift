import Foundation
import TakoTestSupport
import Testing

@Suite("tako init")
struct InitCommandTests {
    @Test func writesACommentedFileWithOneLiveRoute() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["init"])
        #expect(result.status == 0, "\(result.output)")
        let text = try sandbox.read("tako.toml")
        let live = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(live == ["[envs.production]", "route = \"my-project.example.com\""], "\(text)")
        for option in ["name", "build", "start", "dev", "health_check", "[vars]", "routes", "instances", "idle_timeout", "[servers.", "env ="] {
            #expect(text.contains(option), "template does not explain \(option)")
        }
    }

    @Test func theWrittenFileValidates() throws {
        let sandbox = try Sandbox()
        #expect(try sandbox.tako.run(["init"]).status == 0)
        let result = try sandbox.tako.run(["validate"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("app: my-project"), "\(result.output)")
    }

    @Test func takesADirectoryAndUsesTheManifestName() throws {
        let sandbox = try Sandbox()
        try sandbox.write(#"{"name": "@acme/Shop_Front"}"#, to: "web/package.json")
        let result = try sandbox.tako.run(["init", "web"])
        #expect(result.status == 0, "\(result.output)")
        #expect(try sandbox.read("web/tako.toml").contains("route = \"shop-front.example.com\""))
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let sandbox = try Sandbox()
        try sandbox.write("# mine\n", to: "tako.toml")
        let result = try sandbox.tako.run(["init"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("already exists"), "\(result.output)")
        #expect(result.stderr.contains("--force"), "\(result.output)")
        #expect(try sandbox.read("tako.toml") == "# mine\n")

        let forced = try sandbox.tako.run(["init", "--force"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try sandbox.read("tako.toml").contains("[envs.production]"))
    }

    @Test func missingDirectoryIsAClearError() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["init", "nope"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("not a directory"), "\(result.output)")
        #expect(!result.stderr.contains("Error Domain"), "\(result.output)")
    }
}
