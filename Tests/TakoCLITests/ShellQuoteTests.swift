import Foundation
import TakoTestSupport
import TakoCore
import Testing

@testable import TakoCLI

/// ssh hands the remote shell one string: every argument must come out of it as itself.
@Suite("Quoting for the remote shell")
struct ShellQuoteTests {
    static let hostile = [
        "web", "v1.2-3_4", "", "it's", "a b", "$(touch /tmp/tako-quote-pwned)", "`id`", "; rm -rf /", "'; echo x; '",
        "\"double\"", "back\\slash", "new\nline", "tab\there", "*", "~root", "$HOME", "a&b|c>d<e", "-oProxyCommand=x", "ünï",
    ]

    @Test("each argument survives a POSIX shell unchanged", arguments: hostile)
    func roundTrip(argument: String) throws {
        let script = "printf '%s\\0' " + ShellQuote.command([argument, "end"])
        let result = try Program.run("/bin/sh", ["-c", script])
        #expect(result.status == 0)
        #expect(result.stdoutData == Data((argument + "\0end\0").utf8), "\(argument) came back as \(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/tako-quote-pwned"))
    }

    @Test("ssh gets options, then --, then the host and one quoted command")
    func sshArguments() {
        let transport = SSHTransport(home: TakoHomeFixture.home, environment: ["TAKO_SSH_CONFIG": "/tmp/cfg"], interactive: false)
        let arguments = transport.arguments(
            for: .init(name: "la", host: "203.0.113.9", port: 2222, user: "deploy"), remote: ["tako-server", "ctl", "status", "it's"])
        #expect(Array(arguments.prefix(2)) == ["-F", "/tmp/cfg"])
        #expect(arguments.contains("BatchMode=yes"))
        #expect(arguments.contains("StrictHostKeyChecking=accept-new"))
        #expect(Array(arguments.suffix(3)) == ["--", "203.0.113.9", "tako-server ctl status 'it'\\''s'"])
    }
}

enum TakoHomeFixture {
    static let home = TakoCore.TakoHome(root: URL(fileURLWithPath: "/tmp/tako-home-fixture"))
}
