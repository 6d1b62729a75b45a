import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Graceful restarts and upgrades: SIGHUP, `ctl restart` and `ctl upgrade` make tako-server
/// start its successor, which takes over the same listening sockets once its apps are
/// healthy; the old one drains and exits. Real servers, real apps, continuous real traffic.
@Suite("Graceful restart and upgrade with traffic flowing", .serialized)
struct ServerHandoffTests {
    /// When each handoff was asked for and answered (wall clock), to set beside the load's errors.
    final class Timeline: @unchecked Sendable {
        var handoffs: [String] = []
    }
    let timeline = Timeline()

    static let load = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/handoff-load.py").path

    /// A client text frame (masked, as clients must).
    static func maskedText(_ text: String) -> Data {
        let payload = Array(text.utf8)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return Data([0x81, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
    }

    func requests(_ server: ServerProcess, _ app: String) throws -> Int {
        try server.instances(app).reduce(0) { $0 + (($1["requests_total"] as? Int) ?? 0) }
    }

    /// Opens a WebSocket through the serving tako-server, runs `handoff` (which returns the
    /// successor's pid once it answers), and checks that the WebSocket keeps working in the
    /// draining server and closes at its drain deadline (5 s), not at once; then waits for the
    /// old server to exit and for traffic through the successor's own instances.
    func throughHandoff(_ server: ServerProcess, _ handoff: () throws -> Int32) throws -> Int32 {
        let socket = try RawClient(port: server.httpPort)
        socket.send(
            "GET /ws HTTP/1.1\r\nHost: always.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 101"))
        #expect(socket.send(Self.maskedText("ping1")))
        #expect(socket.read(until: "ping1").hasSuffix("ping1"))
        let asked = Date().timeIntervalSince1970
        let successor = try handoff()
        let handedOverAt = ContinuousClock.now
        timeline.handoffs.append(String(format: "%.3f-%.3f", asked, Date().timeIntervalSince1970))
        #expect(socket.send(Self.maskedText("ping2")))
        #expect(socket.read(until: "ping2").hasSuffix("ping2"), "the WebSocket still works during the drain")
        let (_, closed) = socket.readToEnd()
        #expect(closed)
        #expect(ContinuousClock.now - handedOverAt >= .seconds(4), "closed at the drain deadline, not at once")
        #expect(try server.handedOver(to: successor) == 0, "the old server drained and exited cleanly")
        try server.waitUntil("the successor serves") { try requests(server, "always") > 100 }
        return successor
    }

    @Test("no request fails and nothing is refused through a SIGHUP, a restart and an upgrade; state and certificates carry over")
    func handoffsUnderLoad() throws {
        let ca = try TestCA()
        let server = try ServerProcess(
            settings: "start_timeout = 10\ndrain_timeout = 5",
            certificates: ["secure.test": try ca.issue(["secure.test"])], ownBinary: true)
        // Plain HTTP to hosts without a certificate (those with one are redirected to HTTPS).
        #expect(try server.deploy("always", version: "v1", route: "always.test", instances: 2).status == 0)
        #expect(try server.deploy("ondemand", version: "v1", route: "ondemand.test", instances: 0).status == 0)
        #expect(try server.deploy("secure", version: "v1", route: "secure.test", instances: 1).status == 0)
        let oldPID = try #require(try server.serverPID())
        let certificate = try server.servedCertificate("secure.test")
        #expect(certificate.contains("Fingerprint="), "\(certificate)")

        let stop = server.directory.appendingPathComponent("stop").path
        let result = server.directory.appendingPathComponent("load.json").path
        let load = try ChildProcess(
            ["/usr/bin/env", "python3", Self.load, String(server.httpPort), String(server.httpsPort), "always.test", "ondemand.test",
             "secure.test", ca.certificatePath, stop, result],
            log: server.directory.appendingPathComponent("load.log").path, readyWithin: 30)
        #expect(load.firstLine == "started")
        try server.waitUntil("traffic flows") { try requests(server, "always") > 100 }
        // Each handoff with a WebSocket open through the old server.
        let sighupPID = try throughHandoff(server) {
            kill(oldPID, SIGHUP)
            try server.waitUntil("the successor answers on the socket", timeout: .seconds(60)) {
                (try server.serverPID()).map { $0 != oldPID } ?? false
            }
            return try #require(try server.serverPID())
        }

        // A restart on demand (what tako servers restart runs), under the same load.
        let restartPID = try throughHandoff(server) {
            let restarted = try server.ctlOK(["restart"])
            let pid = try #require(restarted.int("pid").map { Int32($0) })
            #expect(restarted.int("previous_pid") == Int(sighupPID) && pid != sighupPID, "\(restarted)")
            return pid
        }

        // An upgrade (what tako servers upgrade runs): a new file at the server's path.
        let candidate = server.directory.appendingPathComponent("candidate").path
        try FileManager.default.copyItem(atPath: BuiltProducts.path("tako-server"), toPath: candidate)
        let running = ServerProcess.inode(server.binary)
        let upgradePID = try throughHandoff(server) {
            let upgrade = try server.upgrade(with: candidate)
            #expect(upgrade.status == 0, "\(upgrade.output)")
            let upgraded = try #require(upgrade.json)
            let pid = try #require(upgraded.int("pid").map { Int32($0) })
            #expect(upgraded.int("previous_pid") == Int(restartPID) && upgraded.string("version") == "0.1.0", "\(upgraded)")
            #expect(upgraded.string("executable") == server.binary, "\(upgraded)")
            return pid
        }
        #expect(try server.serverPID() == upgradePID)
        #expect(ServerProcess.inode(server.binary) != running, "a new file is at the path")
        #expect(ServerProcess.inode(server.binary + ".previous") == running, "the old one is kept beside it")
        #expect(try server.ctlOK(["server-info"]).string("mode") == "normal", "the upgrade lock was released")

        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        load.waitForExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: result))
        let kinds = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        print("handoff traffic, ok per kind: " + kinds.keys.sorted().map { "\($0) \(kinds[$0]?["ok"] ?? 0)" }.joined(separator: ", "))
        for kind in ["keepalive", "keepalive2", "fresh", "https", "https-fresh", "slow", "ondemand"] {
            let entry = kinds[kind] ?? [:]
            #expect((entry["errors"] as? Int) == 0, "\(kind): \(entry); handoffs at \(timeline.handoffs)")
            #expect(((entry["ok"] as? Int) ?? 0) > 0, "\(kind): \(entry)")
        }
        // State carried over: both apps, same versions, the on-demand one still on demand.
        #expect(try server.status("always")["version"] as? String == "v1")
        #expect(try server.status("ondemand")["version"] as? String == "v1")
        #expect(ServerProcess.read(server.logPath).contains("took over from pid \(oldPID)"))
        #expect(try server.servedCertificate("secure.test") == certificate, "the same certificate is served")
    }

    @Test("a successor that cannot start changes nothing: the old server keeps serving, and a later SIGHUP works")
    func failedSuccessor() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let oldPID = try #require(try server.serverPID())
        let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
        try (config + "\n[server\n").write(toFile: server.configPath, atomically: true, encoding: .utf8)

        kill(oldPID, SIGHUP)
        try server.waitUntil("the failure is reported", timeout: .seconds(60)) {
            ServerProcess.read(server.logPath).contains("graceful restart failed")
        }
        #expect(try server.serverPID() == oldPID)
        #expect(try server.get("web.test").status == 200)

        try config.write(toFile: server.configPath, atomically: true, encoding: .utf8)
        kill(oldPID, SIGHUP)
        try server.waitUntil("the successor answers", timeout: .seconds(60)) {
            (try server.serverPID()).map { $0 != oldPID } ?? false
        }
        let newPID = try #require(try server.serverPID())
        #expect(try server.handedOver(to: newPID) == 0)
        #expect(try server.get("web.test").status == 200)
    }

    @Test("ctl restart answers with the successor once it serves; state changes are refused meanwhile")
    func ctlRestart() throws {
        let server = try ServerProcess()
        // Two seconds to start: the successor's wait for it is the window in which the old
        // server must refuse changes.
        #expect(try server.deploy("slow", version: "v1", route: "slow.test", vars: ["START_DELAY": "2"]).status == 0)
        let oldPID = try #require(try server.serverPID())
        let restart = try ChildProcess(
            ["/bin/sh", "-c", "echo started; exec \"$0\" ctl restart --socket \"$1\"", BuiltProducts.path("tako-server"), server.socket],
            log: server.directory.appendingPathComponent("restart.json").path, readyWithin: 30)
        // A change (here: stopping an app) is refused while the successor starts.
        try server.waitUntil("the restart began") { ServerProcess.read(server.logPath).contains("graceful restart: starting a successor") }
        try server.waitUntil("a change is refused during the restart") {
            try server.ctl(["stop", "slow"]).stderr.contains("is refused until the new server has taken over")
        }
        #expect(restart.waitForExit() == 0)
        let answer = ServerProcess.read(server.directory.appendingPathComponent("restart.json").path)
        let newPID = try #require(try server.serverPID())
        #expect(newPID != oldPID)
        #expect(answer.contains("\"pid\":\(newPID)") && answer.contains("\"previous_pid\":\(oldPID)"), "\(answer)")
        #expect(try server.handedOver(to: newPID) == 0)
        #expect(try server.get("slow.test").status == 200)
        #expect(try server.status("slow")["state"] as? String == "running", "nothing was stopped by the refused command")
    }

    @Test("an upgrade that cannot succeed changes nothing: a corrupt upload, a file that is not tako-server, a server that crashes at start")
    func failedUpgrades() throws {
        let server = try ServerProcess(ownBinary: true)
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let pid = try #require(try server.serverPID())
        let original = ServerProcess.inode(server.binary)
        let bin = URL(fileURLWithPath: server.binary).deletingLastPathComponent().path

        let corrupt = try server.upgrade(with: BuiltProducts.path("tako-server"), sha256: String(repeating: "0", count: 64))
        #expect(corrupt.status == 1 && corrupt.stderr.contains("the tako-server binary's checksum does not match"), "\(corrupt.output)")

        let notes = server.directory.appendingPathComponent("notes.txt").path
        try "not a program\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let notProgram = try server.upgrade(with: notes)
        #expect(notProgram.status == 1 && notProgram.stderr.contains("the uploaded file"), "\(notProgram.output)")

        // Says a version, then dies at start: the handoff fails and is undone.
        let crash = server.directory.appendingPathComponent("crash").path
        try "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 9.9.9; exit 0; fi\necho 'candidate: crashing at start' >&2\nexit 70\n"
            .write(toFile: crash, atomically: true, encoding: .utf8)
        chmod(crash, 0o755)
        let crashed = try server.upgrade(with: crash)
        #expect(crashed.status == 1, "\(crashed.output)")
        #expect(crashed.stderr.contains("the new tako-server 9.9.9 did not take over, so the upgrade was undone"), "\(crashed.stderr)")
        #expect(crashed.stderr.contains("hint: the previous tako-server keeps serving"), "\(crashed.stderr)")

        #expect(try server.serverPID() == pid, "the same server serves throughout")
        #expect(ServerProcess.inode(server.binary) == original, "the running binary is back at its path")
        #expect(try server.get("web.test").status == 200)
        #expect(try server.ctlOK(["server-info"]).string("mode") == "normal", "the upgrade lock was released")
        let left = try FileManager.default.contentsOfDirectory(atPath: bin).filter { $0.hasPrefix(".tako-server.upgrade") }
        #expect(left.isEmpty, "no upload is left behind: \(left)")
        #expect(try server.deploy("web", version: "v2", route: "web.test").status == 0, "changes are accepted again")
    }

    @Test("while an upgrade runs, changes are refused with the upgrade's owner named; it ends with the new binary serving")
    func upgradeLock() throws {
        let server = try ServerProcess(ownBinary: true)
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let pid = try #require(try server.serverPID())
        // A candidate that takes two seconds to start: the window to try a change in.
        let slow = server.directory.appendingPathComponent("slow").path
        try "#!/bin/bash\nsleep 2\nexec -a \"$0\" \"\(BuiltProducts.path("tako-server"))\" \"$@\"\n"
            .write(toFile: slow, atomically: true, encoding: .utf8)
        chmod(slow, 0o755)
        let size = (try FileManager.default.attributesOfItem(atPath: slow)[.size] as? Int) ?? 0
        let answer = server.directory.appendingPathComponent("upgrade.json").path
        let upgrade = try ChildProcess(
            ["/bin/sh", "-c", "echo started; exec \"$0\" ctl upgrade --socket \"$1\" --size \"$2\" --sha256 \"$3\" --owner alice@laptop < \"$4\"",
             BuiltProducts.path("tako-server"), server.socket, String(size), try ServerProcess.sha256(of: slow), slow],
            log: answer, readyWithin: 30)
        try server.waitUntil("the upgrade holds the lock") { try server.ctlOK(["server-info"]).string("mode") == "upgrading" }
        let refused = try server.ctl(["stop", "web"])
        #expect(refused.status == 1 && refused.stderr.contains("tako-server is being upgraded (lock held by 'alice@laptop'); 'stop' is refused"), "\(refused.output)")
        let other = try server.ctl(["enter-upgrading", "bob@desk"])
        #expect(other.status == 1 && other.stderr.contains("lock held by 'alice@laptop'"), "\(other.output)")
        #expect(upgrade.waitForExit() == 0, "\(ServerProcess.read(answer))")
        let newPID = try #require(try server.serverPID())
        #expect(newPID != pid)
        #expect(ServerProcess.read(answer).contains("\"previous_pid\":\(pid)"), "\(ServerProcess.read(answer))")
        #expect(try server.handedOver(to: newPID) == 0)
        #expect(try server.ctlOK(["server-info"]).string("mode") == "normal")
        #expect(try server.get("web.test").status == 200)
        #expect(try server.status("web")["state"] as? String == "running", "the refused stop changed nothing")
    }

    @Test("ctl restart --hard stops and starts tako-server in the same process; the apps come back")
    func hardRestart() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let before = try server.ctlOK(["hello"])
        let instances = try server.instances("web").compactMap { $0["pid"] as? Int }
        let answer = try server.ctlOK(["restart", "--hard"])
        #expect(answer.int("pid") == before.int("pid"), "the same process (a service manager keeps tracking it)")
        let after = try server.ctlOK(["hello"])
        #expect(after["started_at"] as? Double != before["started_at"] as? Double)
        try server.readPortsAgain()
        #expect(try server.get("web.test").status == 200)
        let now = try server.instances("web").compactMap { $0["pid"] as? Int }
        #expect(!now.isEmpty && Set(now).isDisjoint(with: instances), "the apps were started again: \(instances) -> \(now)")
        #expect(ServerProcess.read(server.logPath).contains("tako-server stopping for a hard restart"))
    }
}
