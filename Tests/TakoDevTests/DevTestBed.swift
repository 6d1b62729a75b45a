import Foundation
import TakoTestSupport
import Testing

@testable import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// A private world for one `tako dev` test: its own TAKO_HOME, HOME (so no real NSS database
/// or trust store is touched), hosts file and ports, the built `tako` on PATH, and projects
/// made from the dev app fixture. `tako dev` starts the real daemon from there.
final class DevTestBed {
    let root: URL
    let home: URL
    let hostsFile: String
    let httpsPort: Int
    let httpPort: Int
    let dnsPort: Int
    var environment: [String: String]
    private var sessions: [ChildProcess] = []

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/devapp.py")

    init(idleTimeout: Double? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tako-dev-\(UUID().uuidString.prefix(8))")
        home = root.appendingPathComponent("tako-home")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("user"), withIntermediateDirectories: true)
        hostsFile = root.appendingPathComponent("hosts").path
        try "127.0.0.1 localhost\n::1 localhost\n".write(toFile: hostsFile, atomically: true, encoding: .utf8)
        httpsPort = try Pebble.freePort()
        httpPort = try Pebble.freePort()
        dnsPort = try Pebble.freePort(udp: true)
        var environment = ProcessInfo.processInfo.environment
        environment["TAKO_HOME"] = home.path
        environment["HOME"] = root.appendingPathComponent("user").path
        environment["TAKO_DEV_HTTPS_PORT"] = String(httpsPort)
        environment["TAKO_DEV_HTTP_PORT"] = String(httpPort)
        environment["TAKO_DEV_DNS_PORT"] = String(dnsPort)
        environment["TAKO_DEV_HOSTS_FILE"] = hostsFile
        environment["PATH"] = BuiltProducts.directory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["NO_COLOR"] = "1"
        if let idleTimeout { environment["TAKO_DEV_IDLE_TIMEOUT"] = String(idleTimeout) }
        self.environment = environment
    }

    deinit {
        for session in sessions where !session.hasExited {
            session.signal(SIGKILL)
            session.waitForExit()
        }
        _ = try? tako(["dev", "--stop-daemon"])
        try? FileManager.default.removeItem(at: root)
    }

    var caPath: String { home.appendingPathComponent("ca/ca.crt").path }

    /// A project directory with the fixture app and `toml` as its tako.toml.
    func project(_ name: String, toml: String) throws -> URL {
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixture, to: directory.appendingPathComponent("devapp.py"))
        try toml.write(to: directory.appendingPathComponent("tako.toml"), atomically: true, encoding: .utf8)
        return directory
    }

    static func toml(_ name: String, greeting: String = "hi", extra: String = "") -> String {
        """
        [tako]
        name = "\(name)"
        dev = "exec python3 devapp.py"

        [vars]
        GREETING = "\(greeting)"
        \(extra)
        """
    }

    /// Runs `tako` to completion (killed after 60 s, so a command that should have failed
    /// but keeps running fails the test instead of hanging it).
    func tako(_ arguments: [String], in directory: URL? = nil) throws -> ProgramResult {
        try Program.run("/usr/bin/timeout", ["60", BuiltProducts.path("tako")] + arguments, environment: environment, directory: directory)
    }

    /// Starts `tako dev --no-tui` in `directory` and returns once it printed its first log line.
    func dev(_ directory: URL, log: String? = nil) throws -> ChildProcess {
        let session = try ChildProcess(
            [BuiltProducts.path("tako"), "dev", "--no-tui", directory.path], environment: environment,
            log: log ?? root.appendingPathComponent("\(directory.lastPathComponent)-\(sessions.count).log").path,
            readyWithin: 60)
        sessions.append(session)
        return session
    }

    /// One HTTPS request to `https://host:port/path`, verified against the local CA.
    func get(_ host: String, _ path: String = "/", insecure: Bool = false) throws -> Curl.Response {
        var arguments = ["--include", "https://\(host):\(httpsPort)\(path)", "--resolve", "\(host):\(httpsPort):127.0.0.1"]
        arguments += insecure ? ["--insecure"] : ["--cacert", caPath]
        let result = try Curl.run(arguments)
        guard result.status == 0 else { throw TestSupportError(message: "curl \(host)\(path) failed: \(result.errors)") }
        return Curl.parse(result.output)
    }

    func body(_ host: String, _ path: String = "/") throws -> String {
        String(decoding: try get(host, path).body, as: UTF8.self)
    }

    /// The app's pid as the fixture reports it.
    func pid(_ host: String) throws -> String {
        try body(host).split(separator: " ").first { $0.hasPrefix("pid=") }.map { String($0.dropFirst(4)) } ?? ""
    }

    var hostsText: String { (try? String(contentsOfFile: hostsFile, encoding: .utf8)) ?? "" }

    /// The shared log of the project in `directory`, as records.
    func log(_ app: String, _ directory: URL) -> [DevLogRecord] {
        let key = ProjectLock.key(app: app, directory: directory)
        let text = (try? String(contentsOf: home.appendingPathComponent("dev/logs/\(key).jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { DevLogRecord.parse($0) }
    }

    /// Waits (checking every 100 ms) until `condition` holds; false after `seconds`.
    @discardableResult
    func wait(_ seconds: Double, _ condition: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return true }
            usleep(100_000)
        }
        return (try? condition()) == true
    }
}
