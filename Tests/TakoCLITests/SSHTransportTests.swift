import Foundation
import TakoCore
import Testing

@testable import TakoCLI

@Suite("What an ssh failure means")
struct SSHTransportTests {
    let server = ServerEntry(name: "la", host: "203.0.113.9", port: 22, user: "tako")

    func failure(_ status: Int32, _ stderr: String) -> UserError {
        SSHTransport.failure(ProcessRunner.Result(status: status, stdout: Data(), stderr: stderr), server: server)
    }

    @Test("ssh's own failures (status 255) are named for what they are")
    func sshFailures() {
        #expect(failure(255, "tako@203.0.113.9: Permission denied (publickey).").message == "SSH authentication to tako@203.0.113.9:22 failed")
        #expect(failure(255, "ssh: connect to host 203.0.113.9 port 22: Connection refused").message
            == "cannot reach la at tako@203.0.113.9:22: connect to host 203.0.113.9 port 22: Connection refused")
        #expect(failure(255, "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@").message.contains("host key of la"))
        #expect(failure(127, "sh: 1: tako-server: not found").message == "tako-server is not installed on la (203.0.113.9)")
    }

    @Test("the remote command's errors keep their words, all their lines and their hint")
    func remoteErrors() {
        let denied = failure(1, "error: cannot create /opt/tako/apps: Permission denied\nhint: check the owner")
        #expect(denied.message == "la: cannot create /opt/tako/apps: Permission denied")
        #expect(denied.hint == "check the owner")
        let log = failure(1, "error: the release did not start\nlast log lines:\n  boom\nhint: fix it")
        #expect(log.message == "la: the release did not start\nlast log lines:\n  boom")
        let down = failure(3, "error: tako-server is not running (no answer on /var/run/tako/tako.sock)\nhint: start it")
        #expect(down.message.hasPrefix("tako-server is not running on la"))
    }
}
