import Foundation
import TakoTestSupport
import Testing

/// The interactive paths, on a real pseudo-terminal: masked input, confirmations and colour.
@Suite("tako on a terminal")
struct TerminalDialogueTests {
    private static let driver = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Support/pty-drive.py")

    /// Runs `tako arguments` on a pty, answering each prompt as `steps` say. The driver prints
    /// the whole terminal transcript (stdout and stderr interleaved) on its stdout.
    private func dialogue(
        _ sandbox: Sandbox, _ arguments: [String], steps: [[String]], colour: Bool = false
    ) throws -> RunResult {
        var tako = sandbox.tako
        if colour {
            tako.extraEnvironment["NO_COLOR"] = ""
            tako.extraEnvironment["TERM"] = "xterm"
        }
        let stepsJSON = String(decoding: try JSONSerialization.data(withJSONObject: steps), as: UTF8.self)
        return try tako.run(arguments, through: ["python3", Self.driver.path, stepsJSON])
    }

    private func project() throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.write("[tako]\nname = \"shop\"\n[envs.production]\nroute = \"a.com\"\n", to: "tako.toml")
        return sandbox
    }

    @Test func secretInputIsNotEchoed() throws {
        let sandbox = try project()
        let result = try dialogue(
            sandbox, ["secrets", "set", "TOKEN"],
            steps: [["expect", "Value for TOKEN (production): "], ["send", "s3cret-value\r"]])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(!result.stdout.contains("s3cret-value"), "the value was echoed:\n\(result.stdout)")
        #expect(try sandbox.read(".tako/secrets").contains("TOKEN"))
    }

    @Test func serverRemovalAsksFirst() throws {
        let sandbox = try Sandbox()
        #expect(try sandbox.tako.run(["servers", "add", "h.example.com", "--name", "la", "--no-check"]).status == 0)

        let kept = try dialogue(sandbox, ["servers", "rm", "la"], steps: [["expect", "Remove la"], ["send", "n\r"]])
        #expect(kept.status == 0, "\(kept.stdout)")
        #expect(try sandbox.tako.run(["servers", "ls"]).stdout.contains("h.example.com"))

        let removed = try dialogue(sandbox, ["servers", "rm", "la"], steps: [["expect", "Remove la"], ["send", "y\r"]])
        #expect(removed.status == 0, "\(removed.stdout)")
        #expect(!(try sandbox.tako.run(["servers", "ls"]).stdout.contains("h.example.com")))
    }

    @Test func initAsksBeforeOverwriting() throws {
        let sandbox = try Sandbox()
        try sandbox.write("# mine\n", to: "tako.toml")
        let result = try dialogue(sandbox, ["init"], steps: [["expect", "Overwrite it?"], ["send", "\r"]])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(try sandbox.read("tako.toml") == "# mine\n")
    }

    @Test func colourOnlyOnATerminalWithoutNoColor() throws {
        let sandbox = try Sandbox()
        let coloured = try dialogue(sandbox, ["validate"], steps: [], colour: true)
        #expect(coloured.status != 0)
        #expect(coloured.stdout.contains("\u{1B}[31merror:"), "\(coloured.stdout)")

        let plain = try dialogue(sandbox, ["validate"], steps: [])
        #expect(plain.status != 0)
        #expect(!plain.stdout.contains("\u{1B}["), "\(plain.stdout)")
    }
}
