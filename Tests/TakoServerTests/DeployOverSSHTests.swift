import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `tako deploy` end to end: the real CLI, the system's ssh client, real `sshd` processes on
/// 127.0.0.2 and 127.0.0.3, each in front of its own `tako-server`.
final class DeployFixture {
    let client: SSHHost.Client
    var hosts: [SSHHost] = []
    var servers: [ServerProcess] = []
    let home: URL
    let project: URL

    /// `mapped`: whether tako.toml maps the hosts to production (`[servers.hN]`).
    /// `ownBinaries`: each server runs its own copy of tako-server, which an upgrade may replace.
    init(hosts count: Int = 2, app: String = "hello", mapped: Bool = true, ownBinaries: Bool = false) throws {
        client = try SSHHost.Client()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tako-deploy-\(UUID().uuidString.prefix(8))")
        home = root.appendingPathComponent("home")
        project = root.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        for index in 0..<count {
            let server = try ServerProcess(ownBinary: ownBinaries)
            let host = try SSHHost(
                address: "127.0.0.\(index + 2)", client: client,
                environment: ["PATH": "\(BuiltProducts.directory.path):/usr/local/bin:/usr/bin:/bin", "TAKO_SERVER_CONFIG": server.configPath])
            servers.append(server)
            hosts.append(host)
        }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/app.py")
        try FileManager.default.copyItem(at: fixture, to: project.appendingPathComponent("main.py"))
        var toml = """
            # The user's own comment, which tako must keep.
            [tako]
            name = "\(app)"

            [envs.production]
            route = "\(app).test"
            GREETING = "it's $(touch /tmp/tako-pwned) `id` ; rm -rf / \\"quoted\\""

            """
        for index in 0..<count where mapped {
            toml += "\n[servers.h\(index)]\nenv = \"production\"\ninstances = 1\n"
        }
        try toml.write(to: project.appendingPathComponent("tako.toml"), atomically: true, encoding: .utf8)
    }

    var environment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "TAKO_HOME": home.path,
            "TAKO_SSH_CONFIG": client.configPath, "USER": "tester", "NO_COLOR": "1",
        ]
    }

    func tako(_ arguments: [String]) throws -> ProgramResult {
        try Program.run(BuiltProducts.path("tako"), arguments, environment: environment, directory: project)
    }

    /// Adds every host to the inventory the way a user does (the connection is checked).
    func addServers() throws {
        for (index, host) in hosts.enumerated() {
            let result = try tako(["servers", "add", host.address, "--name", "h\(index)", "--port", String(host.port), "--user", SSHHost.currentUser])
            guard result.status == 0 else { throw TestSupportError(message: "servers add: \(result.output)\n\(host.log)") }
        }
    }

    func build(on index: Int) throws -> String {
        String(decoding: try servers[index].get("hello.test", "/env/TAKO_BUILD").body, as: UTF8.self)
    }
}

@Suite("tako deploy over SSH", .serialized)
struct DeployOverSSHTests {
    @Test("deploys to two hosts in parallel; the app runs on both with its variables intact")
    func deploysToBoth() throws {
        let fixture = try DeployFixture()
        try fixture.addServers()
        let result = try fixture.tako(["deploy", "--yes"])
        #expect(result.status == 0, "\(result.output)")
        let version = try fixture.build(on: 0)
        let other = try fixture.build(on: 1)
        #expect(!version.isEmpty && version == other)
        #expect(result.stderr.contains("h0: hello \(version) is running"), "\(result.stderr)")
        #expect(result.stderr.contains("h1: hello \(version) is running"), "\(result.stderr)")
        let greeting = String(decoding: try fixture.servers[1].get("hello.test", "/env/GREETING").body, as: UTF8.self)
        #expect(greeting == "it's $(touch /tmp/tako-pwned) `id` ; rm -rf / \"quoted\"", "values arrive verbatim, never run by a shell")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/tako-pwned"))
        let status = try fixture.tako(["servers", "status", "--json"])
        #expect(status.status == 0, "\(status.output)")
        let reports = try JSONSerialization.jsonObject(with: status.stdoutData) as? [[String: Any]] ?? []
        #expect(reports.count == 2)
        for report in reports {
            #expect(report["reachable"] as? Bool == true)
            let apps = report["apps"] as? [[String: Any]] ?? []
            #expect(apps.first?["name"] as? String == "hello" && apps.first?["version"] as? String == version, "\(report)")
        }
        let pidsBefore = try fixture.servers[0].instances("hello").compactMap { $0["pid"] as? Int }
        let reload = try fixture.tako(["servers", "reload", "h0"])
        #expect(reload.status == 0 && reload.stderr.contains("h0: hello reloaded"), "\(reload.output)")
        let pidsAfter = try fixture.servers[0].instances("hello").compactMap { $0["pid"] as? Int }
        #expect(!pidsAfter.isEmpty && Set(pidsAfter).isDisjoint(with: pidsBefore), "new instances: \(pidsBefore) -> \(pidsAfter)")
        // A graceful restart of tako-server over SSH: a new process serves, the app with it.
        let oldServer = try #require(try fixture.servers[0].serverPID())
        let restart = try fixture.tako(["servers", "restart", "h0"])
        #expect(restart.status == 0 && restart.stderr.contains("h0: tako-server restarted without downtime (pid \(oldServer) → "), "\(restart.output)")
        let newServer = try #require(try fixture.servers[0].serverPID())
        #expect(newServer != oldServer)
        #expect(try fixture.servers[0].handedOver(to: newServer) == 0)
        #expect(try fixture.servers[0].get("hello.test").status == 200)
        let tree = try fixture.tako(["servers", "status"])
        #expect(tree.stdout.contains("└─ hello (production) running  1/1 healthy  build \(version)"), "\(tree.stdout)")
        // The build is left in .tako/build, one at a time.
        let builds = try FileManager.default.contentsOfDirectory(atPath: fixture.project.appendingPathComponent(".tako/build").path)
        #expect(builds.sorted() == [version, "\(version).tar.gz"])
    }

    @Test("servers upgrade hands over to an uploaded binary; a candidate that crashes is undone and reported; restart --hard")
    func upgradeOverSSH() throws {
        let fixture = try DeployFixture(hosts: 1, ownBinaries: true)
        try fixture.addServers()
        #expect(try fixture.tako(["deploy", "--yes"]).status == 0)
        let server = fixture.servers[0]
        let oldPID = try #require(try server.serverPID())
        let candidate = fixture.home.appendingPathComponent("tako-server-new").path
        try FileManager.default.copyItem(atPath: BuiltProducts.path("tako-server"), toPath: candidate)
        let upgrade = try fixture.tako(["servers", "upgrade", "h0", "--binary", candidate])
        #expect(upgrade.status == 0, "\(upgrade.output)")
        #expect(upgrade.stderr.contains("h0: tako-server 0.1.0 → 0.1.0 without downtime (pid \(oldPID) → "), "\(upgrade.stderr)")
        let newPID = try #require(try server.serverPID())
        #expect(newPID != oldPID)
        #expect(try server.handedOver(to: newPID) == 0)
        #expect(try server.get("hello.test").status == 200)

        let crash = fixture.home.appendingPathComponent("crashing-tako-server").path
        try "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 9.9.9; exit 0; fi\nexit 70\n".write(toFile: crash, atomically: true, encoding: .utf8)
        chmod(crash, 0o755)
        let failed = try fixture.tako(["servers", "upgrade", "h0", "--binary", crash])
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.stderr.contains("h0: the new tako-server 9.9.9 did not take over, so the upgrade was undone"), "\(failed.stderr)")
        #expect(try server.serverPID() == newPID)
        #expect(try server.get("hello.test").status == 200)

        let missing = try fixture.tako(["servers", "upgrade", "h0", "--binary", "/nonexistent/tako-server"])
        #expect(missing.status != 0 && missing.stderr.contains("There is no readable file at /nonexistent/tako-server."), "\(missing.output)")

        let hard = try fixture.tako(["servers", "restart", "h0", "--hard"])
        #expect(hard.status == 0 && hard.stderr.contains("h0: tako-server stopped and started again (pid \(newPID))"), "\(hard.output)")
        try server.readPortsAgain()
        #expect(try server.get("hello.test").status == 200)
    }

    @Test("a host that is down fails alone: the other is deployed and the exit status says so")
    func partialFailure() throws {
        let fixture = try DeployFixture()
        try fixture.addServers()
        fixture.hosts[1].stop()
        let result = try fixture.tako(["deploy", "--yes"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach h1"), "\(result.stderr)")
        #expect(result.stderr.contains("1 of 2 servers failed"), "\(result.stderr)")
        #expect(try fixture.servers[0].get("hello.test", "/env/TAKO_BUILD").status == 200)
    }

    @Test("a deploy while another holds the app's lock is told who holds it")
    func lockHeld() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        // Another deploy is in progress: a ship waiting for its upload holds the lock.
        let other = Process()
        other.executableURL = URL(fileURLWithPath: BuiltProducts.path("tako-server"))
        other.arguments = [
            "ctl", "ship", "hello", "--version", "v0", "--size", "1000", "--sha256", String(repeating: "a", count: 64),
            "--holder", "alice@laptop", "--socket", fixture.servers[0].socket,
        ]
        let input = Pipe()
        other.standardInput = input
        other.standardOutput = FileHandle.nullDevice
        other.standardError = FileHandle.nullDevice
        try other.run()
        let holder = fixture.servers[0].directory.appendingPathComponent("data/apps/hello/.deploy_lock/holder.json").path
        try fixture.servers[0].waitUntil("the other deploy holds the lock") { FileManager.default.fileExists(atPath: holder) }
        let blocked = try fixture.tako(["deploy", "--yes"])
        #expect(blocked.status == 1)
        #expect(blocked.stderr.contains("held by alice@laptop"), "\(blocked.stderr)")
        // Its client goes away: the lock goes with it and the next deploy proceeds.
        try input.fileHandleForWriting.close()
        other.waitUntilExit()
        let next = try fixture.tako(["deploy", "--yes"])
        #expect(next.status == 0, "\(next.output)")
    }

    @Test("a deploy whose client is killed mid-way leaves no lock behind: the next deploy proceeds")
    func clientKilled() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        // A big release, so the upload is still running when the client dies.
        let blob = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 48 << 20)
        try blob.write(to: fixture.project.appendingPathComponent("blob.bin"))
        let deploy = Process()
        deploy.executableURL = URL(fileURLWithPath: BuiltProducts.path("tako"))
        deploy.arguments = ["deploy", "--yes"]
        deploy.environment = fixture.environment
        deploy.currentDirectoryURL = fixture.project
        deploy.standardOutput = FileHandle.nullDevice
        deploy.standardError = FileHandle.nullDevice
        try deploy.run()
        let holder = fixture.servers[0].directory.appendingPathComponent("data/apps/hello/.deploy_lock/holder.json").path
        try fixture.servers[0].waitUntil("the deploy holds the lock", timeout: .seconds(60)) { FileManager.default.fileExists(atPath: holder) }
        kill(deploy.processIdentifier, SIGKILL)
        deploy.waitUntilExit()
        // The host notices on its own (the upload ends early, or the rollout finishes).
        try fixture.servers[0].waitUntil("the lock is released", timeout: .seconds(60)) { !FileManager.default.fileExists(atPath: holder) }
        try FileManager.default.removeItem(at: fixture.project.appendingPathComponent("blob.bin"))
        let next = try fixture.tako(["deploy", "--yes"])
        #expect(next.status == 0, "\(next.output)")
    }

    @Test("the SSH connection dropping mid-upload fails the deploy with a clear error and leaves nothing; a re-run succeeds")
    func connectionDropped() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        let blob = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 48 << 20)
        try blob.write(to: fixture.project.appendingPathComponent("blob.bin"))
        let errors = fixture.home.appendingPathComponent("deploy.err")
        let deploy = try ChildProcess(
            ["/bin/sh", "-c", "cd \"$2\" && echo started && exec \"$0\" deploy --yes 2>\"$1\"", BuiltProducts.path("tako"), errors.path,
             fixture.project.path],
            environment: fixture.environment, readyWithin: 30)
        let holder = fixture.servers[0].directory.appendingPathComponent("data/apps/hello/.deploy_lock/holder.json").path
        try fixture.servers[0].waitUntil("the upload is under way", timeout: .seconds(60)) { FileManager.default.fileExists(atPath: holder) }
        fixture.hosts[0].dropConnections()
        #expect(deploy.waitForExit() != 0)
        let said = ServerProcess.read(errors.path)
        #expect(said.contains("error: the SSH connection to h0 (") && said.contains("was lost before tako-server answered"), "\(said)")
        #expect(said.contains("every server kept its previous release"), "\(said)")
        try fixture.servers[0].waitUntil("the host let go of the lock", timeout: .seconds(60)) { !FileManager.default.fileExists(atPath: holder) }
        let releases = fixture.servers[0].directory.appendingPathComponent("data/apps/hello/releases").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: releases)) ?? []).isEmpty, "nothing of the upload is left")
        let next = try fixture.tako(["deploy", "--yes"])
        #expect(next.status == 0, "\(next.output)")
    }

    @Test("on a terminal: the only server is offered for an unmapped environment, production is confirmed, progress is drawn live")
    func terminalDialogue() throws {
        let fixture = try DeployFixture(hosts: 1, mapped: false)
        try fixture.addServers()
        let driver = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TakoCLITests/Support/pty-drive.py")
        let steps: [[String]] = [
            ["expect", "No server is mapped to production. Deploy to h0"], ["send", "y\r"],
            ["expect", "to production (h0)?"], ["send", "y\r"],
        ]
        var environment = fixture.environment
        environment["NO_COLOR"] = ""
        environment["TERM"] = "xterm"
        let result = try Program.run(
            "/usr/bin/env",
            ["python3", driver.path, String(decoding: try JSONSerialization.data(withJSONObject: steps), as: UTF8.self),
             BuiltProducts.path("tako"), "deploy"],
            environment: environment, directory: fixture.project)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("Mapped h0 to production in tako.toml"), "\(result.stdout)")
        #expect(result.stdout.contains("\u{1B}[2K") && result.stdout.contains("rolling out"), "the board redraws its lines: \(result.stdout)")
        let toml = try String(contentsOf: fixture.project.appendingPathComponent("tako.toml"), encoding: .utf8)
        #expect(toml.hasPrefix("# The user's own comment, which tako must keep.\n[tako]"))
        #expect(toml.hasSuffix("\n[servers.h0]\nenv = \"production\"\n"), "\(toml)")
        #expect(try fixture.servers[0].get("hello.test", "/env/TAKO_BUILD").status == 200)
    }

    @Test("a release that cannot start fails with its log lines; the running release keeps serving and its directory stays")
    func failingRelease() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        #expect(try fixture.tako(["deploy", "--yes"]).status == 0)
        let good = try fixture.build(on: 0)
        let toml = fixture.project.appendingPathComponent("tako.toml")
        let text = try String(contentsOf: toml, encoding: .utf8)
        try text.replacingOccurrences(of: "[envs.production]\n", with: "[envs.production]\nMODE = \"crash\"\n")
            .write(to: toml, atomically: true, encoding: .utf8)
        let failed = try fixture.tako(["deploy", "--yes"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("boom: this release cannot start"), "the app's own words reach the deployer: \(failed.stderr)")
        #expect(failed.stderr.contains("every server kept its previous release"), "\(failed.stderr)")
        #expect(try fixture.build(on: 0) == good, "the old release keeps serving")
        let releases = try FileManager.default.contentsOfDirectory(
            atPath: fixture.servers[0].directory.appendingPathComponent("data/apps/hello/releases").path)
        #expect(releases == [good], "the failed release's directory is removed: \(releases)")
    }

    @Test("without a terminal, production needs --yes; a missing server mapping is a clear error")
    func noTerminal() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        let unconfirmed = try fixture.tako(["deploy"])
        #expect(unconfirmed.status == 1)
        #expect(unconfirmed.stderr.contains("needs confirmation") && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        let staging = try fixture.tako(["deploy", "--env", "staging", "--yes"])
        #expect(staging.status == 1 && staging.stderr.contains("no [envs.staging]"), "\(staging.stderr)")
        let development = try fixture.tako(["deploy", "--env", "development", "--yes"])
        #expect(development.status == 1 && development.stderr.contains("not deployed"), "\(development.stderr)")
    }

    @Test("servers add checks SSH and tako-server before saving; unreachable, not installed, not running and a changed host key are clear errors")
    func serversAddChecks() throws {
        let fixture = try DeployFixture(hosts: 1)
        let host = fixture.hosts[0]
        host.stop()
        let down = try fixture.tako(["servers", "add", host.address, "--name", "h0", "--port", String(host.port), "--user", SSHHost.currentUser])
        #expect(down.status == 1)
        #expect(down.stderr.contains("cannot reach h0"), "\(down.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.home.appendingPathComponent("config.toml").path), "nothing saved")
        try host.start()
        let add = ["servers", "add", host.address, "--name", "h0", "--port", String(host.port), "--user", SSHHost.currentUser]
        var missing = fixture.environment
        missing["TAKO_SERVER_BINARY"] = "/nonexistent/tako-server"
        let notInstalled = try Program.run(BuiltProducts.path("tako"), add, environment: missing, directory: fixture.project)
        #expect(notInstalled.status == 1)
        #expect(notInstalled.stderr.contains("tako-server is not installed on h0"), "\(notInstalled.stderr)")
        fixture.servers[0].terminate()
        let notRunning = try fixture.tako(add)
        #expect(notRunning.status == 1)
        #expect(notRunning.stderr.contains("tako-server is not running on h0"), "\(notRunning.stderr)")
        try fixture.servers[0].restart()
        try fixture.addServers()
        let list = try fixture.tako(["servers", "ls", "--json"])
        #expect(list.stdout.contains("\"h0\""))

        // A changed host key is refused, with the command that forgets the old one.
        try host.replaceHostKey()
        let changed = try fixture.tako(["deploy", "--yes"])
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("the SSH host key of h0 (\(host.address)) has changed"), "\(changed.stderr)")
        #expect(changed.stderr.contains("ssh-keygen -R"), "\(changed.stderr)")
    }

    @Test("logs come from both hosts, secrets sync reaches the app, delete removes it everywhere (twice is fine)")
    func logsSecretsDelete() throws {
        let fixture = try DeployFixture()
        try fixture.addServers()
        #expect(try fixture.tako(["deploy", "--yes"]).status == 0)

        let logs = try fixture.tako(["logs", "--no-follow", "--tail", "20"])
        #expect(logs.status == 0, "\(logs.output)")
        for name in ["h0", "h1"] {
            #expect(logs.stdout.contains("[\(name)] ") && logs.stdout.contains("listening on 127.0.0.1:"), "\(logs.stdout)")
        }
        let recent = try fixture.tako(["logs", "--no-follow", "--since", "0s"])
        #expect(recent.status == 0 && !recent.stdout.contains("listening on"), "--since drops older lines: \(recent.stdout)")

        let set = try Program.run(
            BuiltProducts.path("tako"), ["secrets", "set", "API_TOKEN"], stdin: Data("t0ps3cret\n".utf8),
            environment: fixture.environment, directory: fixture.project)
        #expect(set.status == 0, "\(set.output)")
        let sync = try fixture.tako(["secrets", "sync"])
        #expect(sync.status == 0, "\(sync.output)")
        #expect(!sync.output.contains("t0ps3cret"), "a secret's value is never printed")
        for server in fixture.servers {
            #expect(try server.get("hello.test", "/env/API_TOKEN").body == Data("t0ps3cret".utf8))
        }

        let deleted = try fixture.tako(["delete", "--yes"])
        #expect(deleted.status == 0, "\(deleted.output)")
        for server in fixture.servers {
            #expect(try server.get("hello.test").status == 404)
            #expect(!FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("data/apps/hello").path))
        }
        let again = try fixture.tako(["delete", "--yes"])
        #expect(again.status == 0 && again.stderr.contains("was not deployed there"), "\(again.output)")
    }

    @Test("a redeploy under a request loop fails no request; releases lists both; rollback runs the older one again")
    func redeployAndRollback() throws {
        let fixture = try DeployFixture(hosts: 1)
        try fixture.addServers()
        #expect(try fixture.tako(["deploy", "--yes"]).status == 0)
        let first = try fixture.build(on: 0)
        // A changed tree is a new version.
        let main = fixture.project.appendingPathComponent("main.py")
        try (try String(contentsOf: main, encoding: .utf8) + "\n# v2\n").write(to: main, atomically: true, encoding: .utf8)

        let port = fixture.servers[0].httpPort
        let stop = Atomic(false)
        let failures = Atomic(0)
        let served = Atomic(0)
        let loop = Thread {
            while !stop.value {
                let response = try? Curl.request(port: port, host: "hello.test", path: "/env/TAKO_BUILD")
                if response?.status == 200 { served.add(1) } else { failures.add(1) }
            }
        }
        loop.start()
        let redeploy = try fixture.tako(["deploy", "--yes"])
        stop.set(true)
        while !loop.isFinished { usleep(10_000) }
        #expect(redeploy.status == 0, "\(redeploy.output)")
        #expect(failures.value == 0, "\(failures.value) of \(failures.value + served.value) requests failed during the redeploy")
        #expect(served.value > 0)
        let second = try fixture.build(on: 0)
        #expect(second != first)

        let releases = try fixture.tako(["releases", "--json"])
        let entries = try JSONSerialization.jsonObject(with: releases.stdoutData) as? [[String: Any]] ?? []
        let kept = (entries.first?["releases"] as? [[String: Any]] ?? []).map { ($0["version"] as? String ?? "", $0["current"] as? Bool ?? false) }
        #expect(kept.map(\.0) == [second, first] && kept.map(\.1) == [true, false], "\(releases.output)")

        let back = try fixture.tako(["rollback", "--yes"])
        #expect(back.status == 0, "\(back.output)")
        #expect(try fixture.build(on: 0) == first)
        let forward = try fixture.tako(["rollback", second, "--yes"])
        #expect(forward.status == 0, "\(forward.output)")
        #expect(try fixture.build(on: 0) == second)
        let unknown = try fixture.tako(["rollback", "nope", "--yes"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no kept release 'nope'"), "\(unknown.output)")
    }
}

/// A value shared with a loop thread.
final class Atomic<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}

extension Atomic where Value == Int {
    func add(_ amount: Int) { lock.withLock { stored += amount } }
}
