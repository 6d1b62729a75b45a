import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The management socket and the daemon's refusals, against the real binary.
@Suite("tako-server management socket and configuration")
struct ServerManagementTests {
    /// Sends raw bytes on the socket (then closes the sending side when `finish`) and returns
    /// the answer.
    static func exchange(_ bytes: [UInt8], socket path: String, finish: Bool = true) throws -> String {
        let client = try RawClient(unixSocket: path, readTimeout: 15)
        client.send(Data(bytes))  // the server may answer and close before reading it all
        if finish { client.finishSending() }
        return String(decoding: client.readToEnd().data, as: UTF8.self)
    }

    @Test("the management socket takes commands only from the server's own user and root, whatever the file mode")
    func peerCredentials() throws {
        let server = try ServerProcess()
        chmod(server.socket, 0o666)  // a mode widened by mistake
        let nobody = try Program.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--", BuiltProducts.path("tako-server"), "ctl", "hello", "--socket", server.socket])
        #expect(nobody.status == 1, "\(nobody.output)")
        #expect(nobody.stderr.contains("permission denied: tako-server takes commands only from root"), "\(nobody.stderr)")
        #expect(try server.ctl(["hello"]).status == 0)
        #expect(ServerProcess.read(server.logPath).contains("refused a command from uid 65534"))
    }

    @Test(
        "malformed input gets an error response, never a crash",
        arguments: [
            ("not json\n", "invalid management request"),
            ("{\"protocol_version\":1}\n", "invalid management request"),
            ("{\"protocol_version\":1,\"command\":\"launch_missiles\"}\n", "unknown command"),
            ("{\"protocol_version\":99,\"command\":\"hello\"}\n", "protocol version mismatch"),
            ("{\"protocol_version\":1,\"command\":\"stop\"}\n", "invalid management request"),
            ("{\"protocol_version\":1,\"command\":\"deploy\",\"app\":\"../../etc\",\"version\":\"v\",\"env\":\"production\",\"release_path\":\"/tmp\",\"routes\":[\"x.test\"],\"instances\":1,\"idle_timeout_secs\":0}\n", "app name '../../etc'"),
            ("{\"protocol_version\":1,\"command\":\"deploy\",\"app\":\"web\",\"version\":\"v\",\"env\":\"production\",\"release_path\":\"/nonexistent\",\"routes\":[\"x.test\"],\"instances\":1,\"idle_timeout_secs\":0}\n", "does not exist on this server"),
            ("{\"protocol_version\":1,\"command\":\"deploy\",\"app\":\"web\",\"version\":\"v\",\"env\":\"production\",\"release_path\":\"/tmp\",\"routes\":[\"bad route\"],\"instances\":1,\"idle_timeout_secs\":0}\n", "route 'bad route'"),
            ("\u{FF}\u{FE}\n", "invalid management request"),
        ])
    func malformedInput(frame: String, error: String) throws {
        let server = try ServerProcess()
        let answer = try Self.exchange(Array(frame.utf8), socket: server.socket)
        #expect(answer.contains("\"status\":\"error\""), "\(answer)")
        #expect(answer.contains(error), "\(answer)")
        #expect(try server.ctlOK(["hello"]).string("server_version") != nil, "the server still answers")
    }

    @Test("a frame over 1 MiB is refused while it arrives, and a silent client is cut off")
    func limits() throws {
        let server = try ServerProcess()
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        let answer = try Self.exchange(huge, socket: server.socket, finish: false)
        #expect(answer.contains("exceeds the limit of 1048576 bytes"), "\(answer)")
        let empty = try Self.exchange([], socket: server.socket, finish: true)
        #expect(empty.isEmpty || empty.contains("error"), "\(empty)")
        #expect(try server.ctlOK(["hello"]).string("server_version") != nil)
        let mode = try FileManager.default.attributesOfItem(atPath: server.socket)[.posixPermissions] as? Int
        #expect(mode == 0o660)
    }

    @Test("ctl explains a missing server and a bad request, with exit codes")
    func ctlErrors() throws {
        let missing = try BuiltProducts.run("tako-server", ["ctl", "hello", "--socket", "/tmp/no-such-tako.sock"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("error: tako-server is not running (no answer on /tmp/no-such-tako.sock)"), "\(missing.output)")
        #expect(missing.stderr.contains("hint: "))
        let server = try ServerProcess()
        let unknown = try server.ctl(["status", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no app named 'nope' on this server\nhint: see the deployed apps with the status command\n")
        let secrets = try server.ctl(["update-secrets", "nope"], stdin: "not json")
        #expect(secrets.status == 64)
    }

    @Test("a bad configuration is one clear error and nothing starts")
    func badConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-badconfig-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("server-config.toml").path
        try "[server]\nhttp_prot = 8080\ndata_dir = \"\(directory.path)/data\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try BuiltProducts.run("tako-server", ["--config", config])
        #expect(result.status == 1)
        #expect(result.stderr == "error: \(config):2: unknown key 'http_prot' in [server]\nhint: did you mean 'http_port'?\n", "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"), "nothing was created")

        let missing = try BuiltProducts.run("tako-server", ["--config", directory.path + "/nope.toml"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("the server configuration file does not exist"))
        let viaEnvironment = try BuiltProducts.run(
            "tako-server", [], environment: ["TAKO_SERVER_CONFIG": directory.path + "/nope.toml", "PATH": "/usr/bin:/bin"])
        #expect(viaEnvironment.status == 1 && viaEnvironment.stderr.contains("nope.toml"))
    }

    @Test("a second server on the same socket is refused")
    func socketInUse() throws {
        let server = try ServerProcess()
        let second = try BuiltProducts.run("tako-server", ["--config", server.configPath])
        #expect(second.status == 1)
        #expect(second.stderr.contains("already running") || second.stderr.contains("already listening"), "\(second.output)")
        #expect(try server.ctlOK(["hello"]).string("server_version") != nil)
    }

    @Test("an instance whose health check hangs leaves the balancer, then is restarted")
    func hungHealth() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", vars: ["HANG_HEALTH_AFTER": "1"]).status == 0)
        let pid = try #require(try server.instances("web").first?.int("pid"))
        let clock = ContinuousClock()
        let started = clock.now
        try server.waitUntil("the instance is out of the balancer", timeout: .seconds(30)) {
            try server.instances("web").first?.string("state") == "unhealthy"
        }
        let unhealthyAfter = clock.now - started
        #expect(try server.get("web.test").status == 503)
        try server.waitUntil("the instance was restarted", timeout: .seconds(30)) {
            let instance = try server.instances("web").first
            return instance?.int("pid") != pid && instance?.int("pid") != nil
        }
        let restartedAfter = clock.now - started
        #expect(server.appLog("web").contains("failed 5 health checks in a row; restarting it"))
        print("hung instance: out of the balancer after \(unhealthyAfter), restarted after \(restartedAfter)")
    }

    @Test("an app that freezes (SIGSTOP): requests get 504 at upstream_timeout, the instance leaves the balancer, and a new process serves")
    func frozenApp() throws {
        let server = try ServerProcess(settings: "start_timeout = 10\ndrain_timeout = 1\nupstream_timeout = 2")
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let pid = try #require(try server.instances("web").first?.int("pid"))
        kill(pid_t(pid), SIGSTOP)
        defer { kill(pid_t(pid), SIGKILL) }
        let clock = ContinuousClock()
        let started = clock.now
        let hung = try server.get("web.test")
        let waited = clock.now - started
        #expect(hung.status == 504, "\(hung.status)")
        #expect(waited < .seconds(5), "answered within the timeout: \(waited)")
        try server.waitUntil("the instance is out of the balancer", timeout: .seconds(30)) {
            let instance = try server.instances("web").first
            return instance?.string("state") != "healthy" || instance?.int("pid") != pid
        }
        try server.waitUntil("a new process serves", timeout: .seconds(60)) {
            try server.instances("web").first?.int("pid") != pid && server.get("web.test").status == 200
        }
        print("frozen instance: first request answered after \(waited); replaced after \(clock.now - started)")
    }
}
