import Foundation
import TakoCore
import TakoTestSupport
import Testing

@Suite("tako: help, version and errors")
struct GlobalCommandTests {
    @Test func helpListsEveryCommand() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["--help"])
        #expect(result.status == 0, "\(result.output)")
        for command in ["init", "validate", "secrets", "servers"] {
            #expect(result.stdout.contains(command), "\(command) missing from help:\n\(result.stdout)")
        }
    }

    @Test func helpSubcommandExplainsACommand() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["help", "secrets"])
        #expect(result.status == 0, "\(result.output)")
        for command in ["set", "rm", "ls", "key"] {
            #expect(result.stdout.contains(command), "\(result.output)")
        }
    }

    @Test func versionPrintsTheVersion() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == TakoVersion.current)
    }

    @Test func unknownCommandIsAnErrorWithNonZeroExit() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["deplyo"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("deplyo"), "\(result.output)")
    }

    @Test func verboseFlagIsAccepted() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["servers", "ls", "-v"])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func serverAndDevServerReportTheirVersion() throws {
        let sandbox = try Sandbox()
        for name in ["tako-server", "tako-dev-server"] {
            let binary = TakoBinary(name: name, home: sandbox.home, workingDirectory: sandbox.project)
            let version = try binary.run(["--version"])
            #expect(version.status == 0, "\(version.output)")
            #expect(version.stdout.contains(TakoVersion.current))
            let help = try binary.run(["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"), "\(help.output)")
        }
    }

    @Test func errorsCarryNoColourWithoutATerminal() throws {
        let sandbox = try Sandbox()
        var tako = sandbox.tako
        tako.extraEnvironment["NO_COLOR"] = ""
        let result = try tako.run(["validate"])
        #expect(result.status != 0)
        #expect(!result.stderr.contains("\u{1B}["), "\(result.output)")
    }
}
