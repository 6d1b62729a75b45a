import Foundation
import TakoCore
import TakoSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// A graceful re-exec (SIGHUP, and the base of restarts and upgrades): the running server
/// starts its successor with copies of its listening sockets, the successor restores the
/// state, starts and health-checks its own instances, listens on the same sockets and says
/// it is ready; only then does the predecessor stop accepting and drain. A successor that
/// fails changes nothing: the predecessor never stopped serving.
///
/// The successor finds what it inherited in `TAKO_HANDOFF`:
/// `parent=PID,https=3,http=4,ready=5,go=6,https_port=N,http_port=N`. It writes `ready\n` to
/// the ready descriptor, then waits for `go\n` (or the end of the pipe) on the go descriptor
/// before it accepts: the two processes never accept from the shared sockets at once (an
/// event loop woken for a connection the other process took finds nothing to accept).
public struct HandoffInheritance: Sendable, Hashable {
    public static let variable = "TAKO_HANDOFF"

    public var parent: Int32
    public var https: Int32
    public var http: Int32
    public var ready: Int32
    public var go: Int32
    public var httpsPort: Int
    public var httpPort: Int

    public static func fromEnvironment(_ environment: [String: String]) -> HandoffInheritance? {
        guard let text = environment[variable] else { return nil }
        var values: [String: Int32] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int32(parts[1]) { values[String(parts[0])] = value }
        }
        guard let parent = values["parent"], let https = values["https"], let http = values["http"], let ready = values["ready"],
            let go = values["go"], let httpsPort = values["https_port"], let httpPort = values["http_port"]
        else { return nil }
        return HandoffInheritance(
            parent: parent, https: https, http: http, ready: ready, go: go, httpsPort: Int(httpsPort), httpPort: Int(httpPort))
    }

    /// Tells the predecessor (and systemd) that this process now serves.
    func reportReady() {
        SystemdNotify.send("MAINPID=\(getpid())\nREADY=1")
        let line = Array("ready\n".utf8)
        _ = write(ready, line, line.count)
        close(ready)
    }

    /// Blocks until the predecessor stopped accepting (or died).
    func waitForGo() {
        var byte: UInt8 = 0
        while read(go, &byte, 1) == 1, byte != UInt8(ascii: "\n") {}
        close(go)
    }
}

/// The predecessor's half: spawning the successor and waiting for its word.
enum HandoffSpawner {
    /// Starts `executable arguments` with the listeners (`https`, `http`) and a ready pipe;
    /// returns the successor's pid once it reported ready. Throws (having stopped it) when
    /// it exits or stays silent past `timeout`.
    /// Returns the successor's pid and the write end of its go pipe.
    static func spawn(
        executable: String, arguments: [String], https: Int32, http: Int32, ports: (https: Int, http: Int), timeout: Duration
    ) throws(UserError) -> (pid: pid_t, go: Int32) {
        var pipeEnds: [Int32] = [0, 0]
        var goEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0, pipe(&goEnds) == 0 else {
            throw UserError("cannot create a pipe for the handoff: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(goEnds[1], F_SETFD, FD_CLOEXEC)
        // Lifted above the target numbers first, so no dup2 below overwrites a source.
        let sources = [https, http, writeEnd, goEnds[0]].map { fcntl($0, F_DUPFD_CLOEXEC, 100) }
        close(writeEnd)
        close(goEnds[0])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (index, source) in sources.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, source, Int32(3 + index))
        }
        // Nothing else of this process may reach the successor: a client connection it held
        // would stay open after this process closed it (NIO does not open every descriptor
        // close-on-exec).
        spawnActionsCloseAll(&actions, from: Int32(3 + sources.count))
        var environment = ProcessInfo.processInfo.environment
        environment[HandoffInheritance.variable] =
            "parent=\(getpid()),https=3,http=4,ready=5,go=6,https_port=\(ports.https),http_port=\(ports.http)"
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        // The child has its copies: ours must go, or the ready pipe never ends if it dies.
        sources.forEach { close($0) }
        guard spawned == 0 else {
            close(readEnd)
            close(goEnds[1])
            throw UserError("cannot start \(executable): \(String(cString: strerror(spawned)))", hint: "check the binary")
        }
        let reply = readLine(readEnd, timeout: timeout)
        close(readEnd)
        if reply == "ready" { return (pid, goEnds[1]) }
        close(goEnds[1])
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGTERM)
            waitpid(pid, &status, 0)
            throw UserError(
                "the new tako-server did not become ready within \(timeout.components.seconds) s; it was stopped",
                hint: "this server keeps serving; see the new server's messages above")
        }
        throw UserError(
            "the new tako-server exited before it was ready (status \(status >> 8))",
            hint: "this server keeps serving; see the new server's messages above")
    }

    private static func readLine(_ fd: Int32, timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&poller, 1, max(milliseconds, 1)) > 0 else { continue }
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    /// This executable, for the successor of a graceful restart: argv[0] with symlinks
    /// resolved (an upgrade replaces the file at that path, which must be the real file:
    /// `/usr/local/bin/tako-server` links to `/opt/tako/bin/tako-server`), else
    /// `/proc/self/exe`.
    static func currentExecutable() -> String {
        let first = CommandLine.arguments[0]
        if first.contains("/") {
            return URL(fileURLWithPath: first).resolvingSymlinksInPath().standardizedFileURL.path
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(first)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().standardizedFileURL.path
            }
        }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? first
    }
}

extension ServerDaemon {
    /// A hard restart's second half, after `shutdown()`: this process becomes a fresh
    /// tako-server by executing `executable` in place — the same pid, so systemd (or whoever
    /// watches it) keeps tracking it. No descriptor but stdio survives the exec. Returns only
    /// when the exec failed, with why.
    public static func executeAgain(executable: String, arguments: [String]) -> UserError {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) }
            ?? Array(3..<Int32(clamping: min(sysconf(Int32(_SC_OPEN_MAX)), 65536)))
        for descriptor in open where descriptor > 2 {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(executable, argv)
        let reason = String(cString: strerror(errno))
        argv.forEach { free($0) }
        return UserError("cannot start \(executable) again: \(reason)", hint: "start tako-server by hand (systemctl start tako-server)")
    }
}
