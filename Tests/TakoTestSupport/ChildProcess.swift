import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A test helper that could not do its job.
public struct TestSupportError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Where `swift build` put the products: beside the test bundle (`TAKO_BIN_DIR` overrides).
public enum BuiltProducts {
    public static let directory: URL = {
        if let explicit = ProcessInfo.processInfo.environment["TAKO_BIN_DIR"] {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        var candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("tako").path) }
            ?? candidates.last!
    }()

    public static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }
}

/// A child process in a process group of its own, spawned with posix_spawn and stopped with
/// SIGKILL to that group: Foundation's `Process.waitUntilExit` busy-waits off the main
/// thread, and an interpreter shim may sit between us and the real process.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let reaped = Mutex<Int32?>(nil)
    /// The first line the process wrote on the watched stream (its "ready" line).
    public let firstLine: String

    /// Starts `arguments` (with `environment` when given, else the test's own) and waits for
    /// its first line on `stream`.
    /// Everything after the first line, and the other stream, goes to `log` (else nowhere).
    /// With `readyWithin`, a process that has not written its first line by then is killed
    /// (with its group) and the test gets an error instead of hanging.
    public init(
        _ arguments: [String], environment: [String: String]? = nil, readyOn stream: Int32 = STDOUT_FILENO,
        log: String? = nil, readyWithin: Double? = nil
    ) throws {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw TestSupportError(message: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], stream)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let other = stream == STDOUT_FILENO ? STDERR_FILENO : STDOUT_FILENO
        posix_spawn_file_actions_addopen(&actions, other, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // The test process holds sockets of other tests running at the same time (an
        // in-process proxy's connections, clients); a child that inherited one would keep it
        // open after its owner closed it, and that test would wait for a close that never came.
        _ = childCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { Sanitizers.passingOptions($0).map { strdup("\($0.key)=\($0.value)") } + [nil] }
        var pid: pid_t = 0
        let result = envp == nil
            ? posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
            : posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &envp!)
        argv.forEach { free($0) }
        envp?.forEach { free($0) }
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attributes)
        close(pipe[1])
        guard result == 0 else {
            close(pipe[0])
            throw TestSupportError(message: "could not start \(arguments[0])")
        }
        self.pid = pid
        // Read up to the first newline, with no timer: the process says when it is ready.
        var line: [UInt8] = []
        var byte: UInt8 = 0
        let deadline = readyWithin.map { Date().addingTimeInterval($0) }
        var timedOut = false
        while true {
            if let deadline {
                var poller = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
                let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
                if poll(&poller, 1, remaining) == 0 {
                    timedOut = true
                    break
                }
            }
            guard read(pipe[0], &byte, 1) == 1, byte != UInt8(ascii: "\n") else { break }
            line.append(byte)
        }
        if timedOut {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(pipe[0])
            throw TestSupportError(message: "\(arguments[0]) wrote no line within \(readyWithin ?? 0) s")
        }
        firstLine = String(decoding: line, as: UTF8.self)
        // Keep reading, so later output never meets a closed pipe (SIGPIPE).
        let fd = pipe[0]
        let logFD = log.map { open($0, O_WRONLY | O_CREAT | O_APPEND, 0o644) } ?? -1
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                if logFD >= 0 { _ = buffer.withUnsafeBytes { write(logFD, $0.baseAddress, count) } }
            }
            close(fd)
            if logFD >= 0 { close(logFD) }
        }.start()
    }

    /// The most memory the process has held (VmHWM), in KiB.
    public var peakResidentKiB: Int? { kibibytes("status", "VmHWM:") }

    /// The process's anonymous memory now (its heap, stacks and written pages), in KiB: what
    /// it holds for its connections, without the code pages RSS also counts.
    public var anonymousKiB: Int? { kibibytes("smaps_rollup", "Anonymous:") }

    /// The number on the `key` line of /proc/PID/`file` ("VmHWM:   29764 kB").
    private func kibibytes(_ file: String, _ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix(key) }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    /// Sends `signal` to the process alone (not its group).
    public func signal(_ signal: Int32) {
        reaped.withLock { reaped in
            if reaped == nil { kill(pid, signal) }
        }
    }

    /// Waits for the process to exit and returns its wait status.
    @discardableResult
    public func waitForExit() -> Int32 {
        reap(blocking: true) ?? -1
    }

    /// Whether the process has exited (reaping it if so).
    public var hasExited: Bool {
        reap(blocking: false) != nil
    }

    /// Reaps the process once; after that its pid may belong to someone else, so nothing
    /// is ever signalled through it again.
    private func reap(blocking: Bool) -> Int32? {
        reaped.withLock { reaped in
            if let status = reaped { return status }
            var status: Int32 = 0
            guard waitpid(pid, &status, blocking ? 0 : WNOHANG) == pid else { return nil }
            reaped = status
            return status
        }
    }

    deinit {
        let alreadyReaped = reaped.withLock { $0 != nil }
        if !alreadyReaped {
            kill(-pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
    }
}

// glibc 2.34+ (Debian 12 has 2.36); not imported without _GNU_SOURCE.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func childCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
