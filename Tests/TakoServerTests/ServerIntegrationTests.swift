import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `tako-server` binary, real app processes (Fixtures/app.py), real sockets.
@Suite("tako-server over real sockets")
struct ServerIntegrationTests {
    @Test("as an unprivileged user (tako on a host): apps run and the proxy serves them")
    func unprivileged() throws {
        // Root may set socket options others may not (SO_DEBUG was once set in place of
        // TCP_NODELAY: every connection failed as tako, and no test run as root noticed).
        let server = try ServerProcess(user: "nobody")
        let deployed = try server.deploy("web", version: "v1", route: "web.test")
        #expect(deployed.status == 0, "\(deployed.output)")
        #expect(try server.get("web.test").status == 200)
        #expect(try server.get("anything.test", "/_tako/status").status == 200)
        let owner = try FileManager.default.attributesOfItem(atPath: server.socket)[.ownerAccountName] as? String
        #expect(owner == "nobody", "the server really runs as nobody")
    }

    @Test("a deploy starts healthy instances that the proxy routes to, with the app's environment")
    func deployRoutesToInstances() throws {
        let server = try ServerProcess()
        let deployed = try server.deploy("web", version: "v1", route: "web.test", instances: 2, vars: ["GREETING": "hello"])
        #expect(deployed.status == 0, "\(deployed.output)")
        let status = deployed.json ?? [:]
        #expect(status.string("state") == "running")
        #expect((status["instances"] as? [[String: Any]])?.count == 2)

        var instances = Set<String>()
        for _ in 0..<6 {
            let response = try server.get("web.test")
            #expect(response.status == 200)
            instances.insert(response.json?["instance"] as? String ?? "")
        }
        #expect(instances == ["1", "2"], "the balancer uses both instances")
        #expect(String(decoding: try server.get("web.test", "/env/GREETING").body, as: UTF8.self) == "hello")
        #expect(String(decoding: try server.get("web.test", "/env/TAKO_BUILD").body, as: UTF8.self) == "v1")
        #expect(String(decoding: try server.get("web.test", "/env/ENV").body, as: UTF8.self) == "production")
        #expect(String(decoding: try server.get("web.test", "/env/HOST").body, as: UTF8.self) == "127.0.0.1")
        #expect(try server.get("other.test").status == 404)

        let health = try server.get("anything.test", "/_tako/status")
        #expect(health.status == 200)
        #expect(health.json?["healthy"] as? Bool == true)
        let log = server.appLog("web")
        #expect(log.contains("[instance 1 stdout] listening on 127.0.0.1:"), "\(log)")
        let logs = try server.ctlOK(["logs", "web", "--lines", "3"])
        #expect((logs["lines"] as? [String])?.count == 3)
    }

    @Test("logs --follow prints the last lines, then every new one as it is written")
    func followLogs() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let output = server.directory.appendingPathComponent("follow.txt").path
        let follower = try ChildProcess(
            [BuiltProducts.path("tako-server"), "ctl", "logs", "web", "--follow", "--lines", "1", "--socket", server.socket], log: output)
        #expect(follower.firstLine.hasSuffix("[tako tako] deployed v1"), "\(follower.firstLine)")
        #expect(try server.ctl(["reload", "web"]).status == 0)
        try server.waitUntil("the follower saw the reload") {
            let text = ServerProcess.read(output)
            return text.contains("[tako tako] deploying v1") && text.contains("[instance 2 stdout] listening on 127.0.0.1:")
                && text.contains("[tako tako] deployed v1")
        }
    }

    @Test("update-secrets restarts the app with the new values, which never appear in ctl output")
    func secretsReachTheApp() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let result = try server.ctl(["update-secrets", "web"], stdin: #"{"API_TOKEN": "s3cret-value"}"#)
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.stdout.contains("s3cret-value") && !result.stderr.contains("s3cret-value"))
        #expect(String(decoding: try server.get("web.test", "/env/API_TOKEN").body, as: UTF8.self) == "s3cret-value")
        #expect(!server.appLog("web").contains("s3cret-value"))
    }

    @Test("a crashed instance is noticed at once and restarted")
    func crashRestart() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let before = try #require(try server.instances("web").first)
        let pid = try #require(before.int("pid"))
        kill(pid_t(pid), SIGKILL)
        try server.waitUntil("a new process serves") {
            let instance = try server.instances("web").first
            return instance?.string("state") == "healthy" && instance?.int("pid") != pid
        }
        #expect(try server.get("web.test").status == 200)
        let log = server.appLog("web")
        #expect(log.contains("[instance 1 tako] was killed by signal 9 (SIGKILL)"), "\(log)")
        #expect(log.contains("restarting in 1 s"))
    }

    @Test("an app in a crash loop is restarted with growing delays and reports last_error; another app never notices")
    func crashLoop() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("steady", version: "v1", route: "steady.test").status == 0)
        #expect(try server.deploy("loop", version: "v1", route: "loop.test", vars: ["CRASH_AFTER_SECONDS": "1"]).status == 0)
        let steadyPID = try #require(try server.instances("steady").first?.int("pid"))
        var served = 0
        try server.waitUntil("the delay has grown to 4 s", timeout: .seconds(30)) {
            let status = try server.get("steady.test").status
            #expect(status == 200)
            served += 1
            return server.appLog("loop").contains("restarting in 4 s")
        }
        let log = server.appLog("loop")
        #expect(log.contains("restarting in 1 s") && log.contains("restarting in 2 s"), "\(log)")
        try server.waitUntil("last_error names the exit") {
            (try server.status("loop")["last_error"] as? String)?.contains("exited with status 5") ?? false
        }
        #expect(served > 10)
        #expect(try server.instances("steady").first?.int("pid") == steadyPID, "the steady app was never restarted")
        #expect(try server.status("steady")["last_error"] == nil)
    }

    @Test("an app that crashes after some requests keeps being restarted and served")
    func crashAfterRequests() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", vars: ["CRASH_AFTER": "2"]).status == 0)
        #expect(try server.get("web.test").status == 200)
        #expect(try server.get("web.test").status == 200)  // the instance exits after this one
        try server.waitUntil("the instance is back") {
            try server.instances("web").first?.string("state") == "healthy" && (try server.get("web.test").status == 200)
        }
    }

    @Test("a failed deploy leaves the old release serving and reports the new one's log")
    func failedDeployKeepsOldRelease() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", instances: 2).status == 0)
        let failed = try server.deploy("web", version: "v2", route: "web.test", instances: 2, vars: ["MODE": "crash"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("the new release v2 of 'web' did not start"), "\(failed.output)")
        #expect(failed.stderr.contains("boom: this release cannot start"), "the error quotes the app's own output")
        #expect(failed.stderr.contains("hint: the previous release keeps serving"))
        let status = try server.status("web")
        #expect(status.string("version") == "v1")
        #expect(status.string("state") == "running")
        #expect((status["instances"] as? [[String: Any]])?.count == 2)
        for _ in 0..<4 { #expect(try server.get("web.test").json?["build"] as? String == "v1") }
        #expect(try server.get("x.test", "/_tako/status").status == 200, "the old release is healthy")
    }

    @Test("a first deploy that cannot start is an error with nothing left running")
    func failedFirstDeploy() throws {
        let server = try ServerProcess()
        let failed = try server.deploy("web", version: "v1", route: "web.test", vars: ["MODE": "crash"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("hint: fix the app and deploy again"))
        #expect(try server.get("web.test").status == 404, "no route for an app that never started")
        #expect(server.appPIDs().isEmpty)
    }

    @Test("a release that never gets healthy fails the deploy at the start timeout")
    func startTimeout() throws {
        let server = try ServerProcess(settings: "start_timeout = 1\ndrain_timeout = 1")
        let failed = try server.deploy("web", version: "v1", route: "web.test", vars: ["START_DELAY": "30"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("did not answer its health check within 1 s"), "\(failed.output)")
    }

    @Test("a rolling deploy under continuous traffic answers every request 200")
    func rollingDeployUnderLoad() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", instances: 3).status == 0)
        let stop = server.directory.appendingPathComponent("stop-load").path
        let result = server.directory.appendingPathComponent("load-result.json").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/load.py").path
        let load = try ChildProcess(["/usr/bin/env", "python3", script, String(server.httpPort), "web.test", stop, result])
        #expect(load.firstLine == "started")
        let clock = ContinuousClock()
        let started = clock.now
        let deployed = try server.deploy("web", version: "v2", route: "web.test", instances: 3)
        let rollout = clock.now - started
        #expect(deployed.status == 0, "\(deployed.output)")
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        try server.waitUntil("the load generator finished") { FileManager.default.fileExists(atPath: result) }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result))) as? [String: Any])
        let codes = summary["codes"] as? [String: Int] ?? [:]
        #expect(summary["errors"] as? Int == 0, "\(summary)")
        #expect(codes.keys.sorted() == ["200"], "\(summary)")
        #expect((codes["200"] ?? 0) > 20, "traffic ran during the deploy: \(summary)")
        #expect(try server.status("web").string("version") == "v2")
        print("rolling deploy of 3 instances under load took \(rollout); \(summary)")
    }

    @Test("a rolling deploy lets a slow in-flight request finish on the old instance")
    func drainKeepsInFlightRequests() throws {
        let server = try ServerProcess(settings: "start_timeout = 10\ndrain_timeout = 10")
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let port = server.httpPort
        let slow = Background { try Curl.request(port: port, host: "web.test", path: "/sleep/1500") }
        try server.waitUntil("the slow request is in flight") {
            try server.instances("web").first?.int("requests_total") == 1
        }
        #expect(try server.deploy("web", version: "v2", route: "web.test").status == 0)
        let response = try slow.value()
        #expect(response.status == 200)
        #expect(response.json?["build"] as? String == "v1", "it finished where it started")
        #expect(try server.get("web.test").json?["build"] as? String == "v2")
    }

    @Test("an idle instance is never stopped with a request in flight")
    func idleWaitsForInFlight() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", instances: 0, idleTimeout: 1).status == 0)
        let response = try server.get("web.test", "/sleep/2500")  // longer than idle_timeout + a check
        #expect(response.status == 200)
        try server.waitUntil("the instance goes idle afterwards") { try server.instances("web").isEmpty }
    }

    @Test("a streamed response arrives through the server as the app writes it")
    func streaming() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let response = try server.get("web.test", "/stream/5")
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == (0..<5).map { "chunk \($0)\n" }.joined())
        #expect(response.headers["transfer-encoding"] == "chunked")
    }

    @Test("a second app with the same route is refused before anything starts")
    func routeConflict() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test").status == 0)
        let refused = try server.deploy("api", version: "v1", route: "web.test")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("route 'web.test' is already served by 'web'"), "\(refused.output)")
        let status = try server.ctl(["status", "api"])
        #expect(status.status == 1, "no app was created: \(status.output)")
        #expect(try server.deploy("api", version: "v1", route: "web.test/api/*").status == 0, "a more specific route is fine")
        #expect(try server.get("web.test", "/api/x").json?["path"] as? String == "/api/x")
    }

    @Test("an on-demand app starts on the first request, holds concurrent ones, and stops when idle")
    func scaleToZero() throws {
        let server = try ServerProcess()
        let deployed = try server.deploy("web", version: "v1", route: "web.test", instances: 0, idleTimeout: 1)
        #expect(deployed.status == 0, "\(deployed.output)")
        #expect(deployed.json?.string("state") == "idle")
        try server.waitUntil("the validation instance stopped") { try server.instances("web").isEmpty }

        // Five requests at once: all held until the one instance is healthy, all served.
        let url = "http://web.test:\(server.httpPort)/"
        let responses = try Curl.run(
            ["--parallel", "--parallel-immediate", "-w", "%{http_code}\n"]
                + Array(repeating: ["-o", "/dev/null", url], count: 5).flatMap { $0 }
                + ["--connect-to", "web.test:\(server.httpPort):127.0.0.1:\(server.httpPort)"])
        let codes = String(decoding: responses.output, as: UTF8.self).split(separator: "\n")
        #expect(codes == Array(repeating: "200", count: 5), "\(codes)")
        #expect(try server.instances("web").count == 1)
        try server.waitUntil("the idle instance stopped") { try server.instances("web").isEmpty }
        #expect(try server.status("web").string("state") == "idle")
        #expect(try server.get("web.test").status == 200, "and it starts again")
    }

    @Test("an app inherits none of the server's descriptors, so a cold start's client gets its FIN at once")
    func noInheritedDescriptors() throws {
        let server = try ServerProcess()
        #expect(try server.deploy("web", version: "v1", route: "web.test", instances: 0).status == 0)
        try server.waitUntil("the validation instance stopped") { try server.instances("web").isEmpty }
        // This request's connection is open while the app is spawned: had the app inherited
        // it, the connection would end only when the app exits.
        let (head, elapsed) = try Self.untilEOF(port: server.httpPort, request: "GET / HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
        #expect(elapsed < .seconds(2), "the connection ended with the response: \(elapsed)")
        let fds = try JSONSerialization.jsonObject(with: try server.get("web.test", "/fds").body) as? [String]
        #expect(fds == ["0", "1", "2", "3"], "only stdin, stdout, stderr and the listing's own: \(fds ?? [])")
    }

    /// Sends `request` on a fresh connection and reads until the server closes it (at most 10 s).
    static func untilEOF(port: Int, request: String) throws -> (String, Duration) {
        let client = try RawClient(port: port, readTimeout: 10)
        let clock = ContinuousClock()
        let started = clock.now
        client.send(request)
        let received = client.readToEnd().data
        return (String(decoding: received, as: UTF8.self), clock.now - started)
    }

    @Test("stopping an app that ignores SIGTERM kills it after the drain timeout")
    func stopIgnoringSIGTERM() throws {
        let server = try ServerProcess(settings: "start_timeout = 10\ndrain_timeout = 1")
        #expect(try server.deploy("web", version: "v1", route: "web.test", vars: ["MODE": "ignore-term"]).status == 0)
        let pid = try #require(try server.instances("web").first?.int("pid"))
        let stopped = try server.ctl(["stop", "web"])
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(kill(pid_t(pid), 0) != 0, "the process is gone")
        #expect(server.appLog("web").contains("did not stop within 1 s of SIGTERM; killed"))
        #expect(try server.get("web.test").status == 503, "a stopped app keeps its route but has no instance")
    }
}

/// Runs `work` on another thread; `value()` waits for it.
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        Thread {
            self.result = Result { try work() }
            self.done.signal()
        }.start()
    }

    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}
