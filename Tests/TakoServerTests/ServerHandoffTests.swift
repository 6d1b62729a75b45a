import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Graceful restarts: SIGHUP makes tako-server start its successor, which takes over the same
/// listening sockets once its apps are healthy; the old one drains and exits. Real servers,
/// real apps, continuous real traffic.
@Suite("Graceful restart (SIGHUP) with traffic flowing", .serialized)
struct ServerHandoffTests {
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

    @Test("no request fails and nothing is refused while a new server takes over; state and certificates carry over")
    func sighupUnderLoad() throws {
        let ca = try TestCA()
        let server = try ServerProcess(
            settings: "start_timeout = 10\ndrain_timeout = 5",
            certificates: ["secure.test": try ca.issue(["secure.test"])])
        // Plain HTTP to hosts without a certificate (those with one are redirected to HTTPS).
        #expect(try server.deploy("always", version: "v1", route: "always.test", instances: 2).status == 0)
        #expect(try server.deploy("ondemand", version: "v1", route: "ondemand.test", instances: 0).status == 0)
        #expect(try server.deploy("secure", version: "v1", route: "secure.test", instances: 1).status == 0)
        let oldPID = try #require(try server.serverPID())

        let stop = server.directory.appendingPathComponent("stop").path
        let result = server.directory.appendingPathComponent("load.json").path
        let load = try ChildProcess(
            ["/usr/bin/env", "python3", Self.load, String(server.httpPort), String(server.httpsPort), "always.test", "ondemand.test",
             "secure.test", ca.certificatePath, stop, result],
            log: server.directory.appendingPathComponent("load.log").path, readyWithin: 30)
        #expect(load.firstLine == "started")
        try server.waitUntil("traffic flows") { try requests(server, "always") > 100 }
        // An open WebSocket through the old server.
        let socket = try RawClient(port: server.httpPort)
        socket.send(
            "GET /ws HTTP/1.1\r\nHost: always.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 101"))
        #expect(socket.send(Self.maskedText("ping1")))
        #expect(socket.read(until: "ping1").hasSuffix("ping1"))

        kill(oldPID, SIGHUP)
        try server.waitUntil("the successor answers on the socket", timeout: .seconds(60)) {
            (try server.serverPID()).map { $0 != oldPID } ?? false
        }
        let newPID = try #require(try server.serverPID())
        let handedOverAt = ContinuousClock.now
        // The WebSocket lives on in the draining server until the drain timeout (5 s), then closes.
        #expect(socket.send(Self.maskedText("ping2")))
        #expect(socket.read(until: "ping2").hasSuffix("ping2"), "the WebSocket still works during the drain")
        let (_, closed) = socket.readToEnd()
        #expect(closed)
        #expect(ContinuousClock.now - handedOverAt >= .seconds(4), "closed at the drain deadline, not at once")
        #expect(try server.handedOver(to: newPID) == 0, "the old server drained and exited cleanly")
        // Traffic keeps flowing through the successor's own instances.
        try server.waitUntil("the successor serves") { try requests(server, "always") > 100 }

        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        load.waitForExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: result))
        let kinds = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        print("handoff traffic, ok per kind: " + kinds.keys.sorted().map { "\($0) \(kinds[$0]?["ok"] ?? 0)" }.joined(separator: ", "))
        for kind in ["keepalive", "keepalive2", "fresh", "https", "https-fresh", "slow", "ondemand"] {
            let entry = kinds[kind] ?? [:]
            #expect((entry["errors"] as? Int) == 0, "\(kind): \(entry)")
            #expect(((entry["ok"] as? Int) ?? 0) > 0, "\(kind): \(entry)")
        }
        // State carried over: both apps, same versions, the on-demand one still on demand.
        #expect(try server.status("always")["version"] as? String == "v1")
        #expect(try server.status("ondemand")["version"] as? String == "v1")
        #expect(ServerProcess.read(server.logPath).contains("took over from pid \(oldPID)"))
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
}
