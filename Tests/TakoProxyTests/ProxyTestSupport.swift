import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Testing

@testable import TakoCore
@testable import TakoProxy

/// A child process in a process group of its own, spawned with posix_spawn and stopped with
/// SIGKILL to that group: Foundation's `Process.waitUntilExit` busy-waits off the main
/// thread, and an interpreter shim may sit between us and the real process.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The first line the process wrote on the watched stream (its "ready" line).
    let firstLine: String

    init(_ arguments: [String], readyOn stream: Int32 = STDOUT_FILENO) throws {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw UpstreamError(message: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], stream)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let other = stream == STDOUT_FILENO ? STDERR_FILENO : STDOUT_FILENO
        posix_spawn_file_actions_addopen(&actions, other, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        argv.forEach { free($0) }
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attributes)
        close(pipe[1])
        guard result == 0 else {
            close(pipe[0])
            throw UpstreamError(message: "could not start \(arguments[0])")
        }
        self.pid = pid
        // Read up to the first newline, with no timer: the process says when it is ready.
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(pipe[0], &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        close(pipe[0])
        firstLine = String(decoding: line, as: UTF8.self)
    }

    /// The most memory the process has held (VmHWM), in KiB.
    var peakResidentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    deinit {
        kill(-pid, SIGKILL)
        waitpid(pid, nil, 0)
    }
}

/// A real upstream app process (Support/upstream.py) on a free loopback port.
final class UpstreamProcess: Sendable {
    let name: String
    let port: Int
    private let process: ChildProcess

    init(name: String) throws {
        self.name = name
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/upstream.py")
        process = try ChildProcess(["/usr/bin/env", "python3", script.path, name])
        guard process.firstLine.hasPrefix("READY "), let port = Int(process.firstLine.dropFirst(6)) else {
            throw UpstreamError(message: "upstream \(name) did not start: \(process.firstLine)")
        }
        self.port = port
    }

    var address: SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: port) }
}

/// `tako-server proxy` as its own process (built beside the test bundle), for measuring it.
final class ProxyProcess {
    let port: Int
    let process: ChildProcess

    init(routes: [String]) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tako-server").path
        process = try ChildProcess(
            [binary, "proxy", "--listen", "127.0.0.1:0", "--workers", "1"] + routes.flatMap { ["--route", $0] },
            readyOn: STDERR_FILENO)
        // "tako-server proxy listening on [IPv4]127.0.0.1/127.0.0.1:PORT"
        guard process.firstLine.contains("listening"), let port = process.firstLine.split(separator: ":").last.flatMap({ Int($0) })
        else {
            throw UpstreamError(message: "tako-server proxy did not start: \(process.firstLine)")
        }
        self.port = port
    }
}

struct UpstreamError: Error { var message: String }

/// A running proxy with routes to the given apps.
final class RunningProxy {
    let server: ProxyServer
    let store: RoutingSnapshotStore
    let port: Int

    init(routes: [String: [String]], upstreams: [String: [SocketAddress]], configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2)) async throws {
        var table: [String: [RoutePattern]] = [:]
        for (app, patterns) in routes { table[app] = try patterns.map { try RoutePattern($0) } }
        var apps: [String: AppBackend] = [:]
        for (app, addresses) in upstreams {
            apps[app] = AppBackend(name: app, endpoints: addresses.map { UpstreamEndpoint(address: $0) })
        }
        store = RoutingSnapshotStore(RoutingSnapshot(routes: try RouteTable(table), apps: apps))
        server = ProxyServer(configuration: configuration, snapshots: store)
        let address = try await server.start(host: "127.0.0.1", port: 0)
        port = address.port ?? 0
    }

    /// The common case: `example.test` routed to one upstream app, `web`.
    convenience init(serving web: UpstreamProcess, configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 2)) async throws {
        try await self.init(routes: ["web": ["example.test"]], upstreams: ["web": [web.address]], configuration: configuration)
    }

    func stop() async {
        await server.shutdown(deadline: .seconds(5))
    }
}

/// curl, as a client would use the proxy. `--resolve` sends any host to the proxy's port.
struct Curl {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    static func run(_ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "--silent", "--show-error", "--max-time", "30"] + arguments
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        if let stdin {
            DispatchQueue.global().async {
                input.fileHandleForWriting.write(stdin)
                try? input.fileHandleForWriting.close()
            }
        } else {
            try input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, data, errorText)
    }

    /// One request through the proxy on `port` to `http://host/path`.
    static func request(
        port: Int, host: String, path: String, method: String = "GET", headers: [String] = [], body: Data? = nil
    ) throws -> Response {
        var arguments = ["--include", "-X", method, "http://\(host):\(port)\(path)", "--connect-to", "\(host):\(port):127.0.0.1:\(port)"]
        for header in headers { arguments += ["-H", header] }
        if body != nil { arguments += ["--data-binary", "@-"] }
        let result = try run(arguments, stdin: body)
        guard result.status == 0 else { throw UpstreamError(message: "curl failed: \(result.errors)") }
        return parse(result.output)
    }

    /// Splits `--include` output into status, headers (last response) and body.
    static func parse(_ data: Data) -> Response {
        var rest = data[...]
        var response = Response(status: 0, headers: [:], body: Data())
        while let end = rest.firstRange(of: Data("\r\n\r\n".utf8)) {
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ")
            response.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            response.headers = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                response.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            rest = rest[end.upperBound...]
            if response.status >= 200 { break }  // skip 100 Continue
        }
        response.body = Data(rest)
        return response
    }
}
