import Foundation
import TakoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `tako-server` binary with a temp config, data dir and socket, on a free port.
final class ServerProcess {
    let directory: URL
    let socket: String
    let configPath: String
    private(set) var httpPort: Int
    private(set) var httpsPort: Int
    let logPath: String
    private(set) var process: ChildProcess?
    /// A server that took over from `process` by a graceful restart (not this test's child).
    private(set) var successor: Int32?
    /// The binary it runs: the build's, or with `ownBinary` a link to it in `directory/bin`
    /// that an upgrade may replace without touching the build.
    let binary: String
    /// The user the server runs as (nil: this test's own, root in CI).
    let user: String?

    /// `settings` are extra `[server]` lines (timeouts for tests that wait on them);
    /// `certificates` are placed in the store before the server starts.
    /// `issuer` is `[tls] issuer` ("none" keeps tests away from any real CA); `acme` are
    /// `[acme]` lines; `httpPort` fixes the HTTP port (pebble must know it before the server).
    init(
        settings: String = "start_timeout = 10\ndrain_timeout = 2",
        certificates: [String: (chain: [UInt8], key: [UInt8])] = [:],
        issuer: String = "none", acme: String = "", fixedHTTPPort: Int = 0, ownBinary: Bool = false, user: String? = nil
    ) throws {
        self.user = user
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-server-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if ownBinary {
            let bin = directory.appendingPathComponent("bin")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            binary = bin.appendingPathComponent("tako-server").path
            // A hard link: an upgrade renames a new file over the path, never writes this inode.
            try FileManager.default.linkItem(atPath: BuiltProducts.path("tako-server"), toPath: binary)
        } else {
            binary = BuiltProducts.path("tako-server")
        }
        socket = directory.appendingPathComponent("tako.sock").path
        configPath = directory.appendingPathComponent("server-config.toml").path
        logPath = directory.appendingPathComponent("server.log").path
        let config = """
            [server]
            http_port = \(fixedHTTPPort)
            https_port = 0
            listen = "127.0.0.1"
            data_dir = "\(directory.appendingPathComponent("data").path)"
            socket = "\(socket)"
            \(settings)

            [tls]
            issuer = "\(issuer)"

            [acme]
            \(acme)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        for (host, pem) in certificates {
            let folder = directory.appendingPathComponent("data/certs/\(host)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(pem.chain).write(to: folder.appendingPathComponent("fullchain.pem"))
            try Data(pem.key).write(to: folder.appendingPathComponent("privkey.pem"))
        }
        if let user {
            // Everything it writes lives in its directory, as /opt/tako belongs to tako.
            let chown = try Program.run("/bin/chown", ["-R", "\(user):", directory.path])
            guard chown.status == 0 else { throw TestSupportError(message: "chown: \(chown.output)") }
        }
        (process, httpPort, httpsPort) = try Self.launch(configPath: configPath, log: logPath, binary: binary, user: user)
    }

    /// Starts the binary and reads its ports from its first line:
    /// "tako-server 0.1.0 listening on http://127.0.0.1:PORT and https://127.0.0.1:PORT, ..."
    static func launch(
        configPath: String, log: String, binary: String = BuiltProducts.path("tako-server"), user: String? = nil
    ) throws -> (ChildProcess, http: Int, https: Int) {
        let process = try spawn(configPath: configPath, log: log, binary: binary, user: user)
        guard let http = port(in: process.firstLine), let https = port(in: process.firstLine, scheme: "https") else {
            throw TestSupportError(message: "tako-server did not start: \(process.firstLine)\n\(read(log))")
        }
        return (process, http, https)
    }

    static func spawn(
        configPath: String, log: String, binary: String = BuiltProducts.path("tako-server"), user: String? = nil
    ) throws -> ChildProcess {
        // setpriv execs the server itself: the pid is the server's.
        var prefix: [String] = []
        if let user {
            guard let entry = getpwnam(user) else { throw TestSupportError(message: "no user \(user)") }
            prefix = ["/usr/bin/setpriv", "--reuid=\(entry.pointee.pw_uid)", "--regid=\(entry.pointee.pw_gid)", "--clear-groups", "--"]
        }
        return try ChildProcess(
            prefix + [binary, "--config", configPath],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"],
            readyOn: STDERR_FILENO, log: log)
    }

    static func port(in line: String, scheme: String = "http") -> Int? {
        guard let range = line.range(of: "\(scheme)://127.0.0.1:") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Kills the server with SIGKILL (no cleanup at all); its apps keep running.
    func kill9() {
        guard let process else { return }
        kill(process.pid, SIGKILL)
        process.waitForExit()
        self.process = nil
    }

    /// SIGTERM, then waits for the process to exit; returns its exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard let process else { return -1 }
        process.signal(SIGTERM)
        let status = process.waitForExit()
        self.process = nil
        return status
    }

    /// Starts the server again with the same configuration and data.
    func restart() throws {
        (process, httpPort, httpsPort) = try Self.launch(configPath: configPath, log: logPath, binary: binary)
    }

    /// After a hard restart (same process, ports picked again when configured as 0): the
    /// ports from the last "listening on" line of the log.
    func readPortsAgain() throws {
        let line = Self.read(logPath).split(separator: "\n").last { $0.contains(" listening on ") }.map(String.init) ?? ""
        guard let http = Self.port(in: line), let https = Self.port(in: line, scheme: "https") else {
            throw TestSupportError(message: "no listening line in the log:\n\(Self.read(logPath))")
        }
        (httpPort, httpsPort) = (http, https)
    }

    var dataDirectory: URL { directory.appendingPathComponent("data") }

    /// The pid the management socket's server reports.
    func serverPID() throws -> Int32? {
        (try ctlOK(["hello"])["pid"] as? Int).map { Int32($0) }
    }

    /// After a graceful restart: waits for the old process to exit (it drains first) and
    /// remembers the successor, which the test must stop in the end.
    /// A successor that hands over in turn is waited for the same way; its exit status is
    /// not this test's to read (0 is returned once it is gone).
    func handedOver(to pid: Int32, timeout: Duration = .seconds(30)) throws -> Int32 {
        let previous = successor
        successor = pid
        guard let process else {
            guard let previous, previous != pid else { return -1 }
            let deadline = ContinuousClock.now + timeout
            while kill(previous, 0) == 0, !Self.isZombie(previous), ContinuousClock.now < deadline { usleep(50_000) }
            guard kill(previous, 0) != 0 || Self.isZombie(previous) else {
                throw TestSupportError(message: "the old tako-server \(previous) did not exit")
            }
            return 0
        }
        let deadline = ContinuousClock.now + timeout
        while !process.hasExited, ContinuousClock.now < deadline { usleep(50_000) }
        guard process.hasExited else { throw TestSupportError(message: "the old tako-server \(process.pid) did not exit") }
        let status = process.waitForExit()
        self.process = nil
        return status
    }

    deinit {
        // A server that died on its own leaves its log (and its crash report) behind.
        if let process, process.hasExited {
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("tako-server-died-\(process.pid).log").path
            try? FileManager.default.copyItem(atPath: logPath, toPath: kept)
            let tail = Self.read(logPath).split(separator: "\n", omittingEmptySubsequences: false).suffix(80)
            print("tako-server \(process.pid) died; its log is in \(kept); it ends:\n" + tail.joined(separator: "\n"))
        }
        process = nil
        if let successor {
            kill(successor, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(15)
            while kill(successor, 0) == 0, ContinuousClock.now < deadline, !Self.isZombie(successor) { usleep(50_000) }
            kill(successor, SIGKILL)
        }
        // The apps it started are in their own process groups; the server stops them on
        // SIGTERM, but a test that killed it must not leave them behind.
        for pid in appPIDs() { kill(-pid, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A process that exited but was not reaped (a successor's parent is not this test).
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return true
        }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Every process running in one of this test's release directories.
    func appPIDs() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") else { return false }
            return cwd.hasPrefix(directory.path)
        }
    }

    // MARK: ctl

    @discardableResult
    func ctl(_ arguments: [String], stdin: String? = nil) throws -> ProgramResult {
        guard let command = arguments.first else { throw TestSupportError(message: "no command") }
        return try BuiltProducts.run("tako-server", ["ctl", command] + arguments.dropFirst() + ["--socket", socket], stdin: stdin)
    }

    /// Runs a ctl command that must succeed and returns its JSON.
    func ctlOK(_ arguments: [String], stdin: String? = nil) throws -> [String: Any] {
        let result = try ctl(arguments, stdin: stdin)
        guard result.status == 0, let json = result.json else {
            throw TestSupportError(
                message: "ctl \(arguments.joined(separator: " ")) failed: \(result.output)\n--- server log\n\(Self.read(logPath))")
        }
        return json
    }

    /// `ctl upgrade` with `candidate` on stdin, as `tako servers upgrade` runs it over SSH;
    /// `sha256` overrides the checksum sent.
    func upgrade(with candidate: String, sha256: String? = nil, owner: String = "tester@test") throws -> ProgramResult {
        let size = (try FileManager.default.attributesOfItem(atPath: candidate)[.size] as? Int) ?? 0
        let digest = try sha256 ?? Self.sha256(of: candidate)
        return try Program.run(
            "/bin/sh",
            ["-c", "exec \"$0\" ctl upgrade --socket \"$1\" --size \"$2\" --sha256 \"$3\" --owner \"$4\" < \"$5\"",
             BuiltProducts.path("tako-server"), socket, String(size), digest, owner, candidate])
    }

    static func sha256(of path: String) throws -> String {
        String(try Program.run("/usr/bin/sha256sum", [path]).stdout.prefix(64))
    }

    static func inode(_ path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value
    }

    /// The SHA-256 fingerprint of the certificate the HTTPS listener presents for `host`.
    func servedCertificate(_ host: String) throws -> String {
        let result = try Program.run(
            "/bin/sh",
            ["-c", "openssl s_client -connect 127.0.0.1:\"$0\" -servername \"$1\" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
             String(httpsPort), host])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A release directory holding the fixture app as `main.py`.
    func release(_ name: String) throws -> String {
        let release = directory.appendingPathComponent("releases/\(name)")
        if FileManager.default.fileExists(atPath: release.path) { return release.path }
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/app.py")
        try FileManager.default.copyItem(at: fixture, to: release.appendingPathComponent("main.py"))
        return release.path
    }

    func deploy(
        _ app: String, version: String, route: String, instances: Int = 1, idleTimeout: Int = 300,
        vars: [String: String] = [:], release: String? = nil
    ) throws -> ProgramResult {
        let path = try release ?? self.release("\(app)-\(version)")
        var arguments = ["deploy", app, "--version", version, "--release", path, "--route", route,
                         "--instances", String(instances), "--idle-timeout", String(idleTimeout)]
        for (name, value) in vars.sorted(by: { $0.key < $1.key }) { arguments += ["--var", "\(name)=\(value)"] }
        return try ctl(arguments)
    }

    func status(_ app: String) throws -> [String: Any] {
        let json = try ctlOK(["status", app])
        return (json["apps"] as? [[String: Any]])?.first ?? [:]
    }

    func instances(_ app: String) throws -> [[String: Any]] {
        try status(app)["instances"] as? [[String: Any]] ?? []
    }

    func get(_ host: String, _ path: String = "/") throws -> Curl.Response {
        try Curl.request(port: httpPort, host: host, path: path)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes: for state that
    /// changes inside another process, which can only be observed by asking.
    func waitUntil(_ what: String, timeout: Duration = .seconds(15), _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        if try condition() { return }
        throw TestSupportError(message: "timed out waiting until \(what)\n--- server log\n\(Self.read(logPath))")
    }

    func appLog(_ app: String) -> String {
        Self.read(directory.appendingPathComponent("data/apps/\(app)/shared/logs/current.log").path)
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int? { self[key] as? Int }
    func string(_ key: String) -> String? { self[key] as? String }
}
