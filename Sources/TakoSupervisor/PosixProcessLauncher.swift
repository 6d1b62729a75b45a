import Foundation
import TakoCore

/// Spawns processes with `posix_spawn`: a new process group (so the whole tree is signalled
/// together), default signal dispositions and an empty mask (the server ignores SIGPIPE and
/// handles SIGTERM itself; an app must not inherit that), stdin from /dev/null, and stdout
/// and stderr through pipes read line by line.
///
/// A thread per pipe and one blocked in `waitpid` notice output and exit the moment they
/// happen, with no polling.
public struct PosixProcessLauncher: ProcessLauncher {
    /// The longest line kept whole; longer output is split, so a process that never writes a
    /// newline cannot grow the server's memory.
    public static let maxLineBytes = 16 << 10

    public init() {}

    public func launch(_ spec: LaunchSpec, output: @escaping @Sendable (AppLog.Stream, String) -> Void) throws -> any ManagedProcess {
        // One launch at a time: a pipe made by one launch must be close-on-exec before
        // another launch's child is spawned, or that child would hold it open and the first
        // app's output would never reach end-of-file.
        try Self.launchLock.withLock { _ in try spawn(spec, output: output) }
    }

    private static let launchLock = Locked(())

    private func spawn(_ spec: LaunchSpec, output: @escaping @Sendable (AppLog.Stream, String) -> Void) throws -> any ManagedProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SupervisorError("cannot create a pipe", errno: errno) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SupervisorError("cannot create a pipe", errno: errno)
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        _ = posix_spawn_file_actions_addchdir_np(&actions, spec.directory)
        // Nothing of the server's may reach the app: not its listening sockets, not a client
        // connection that happens to be open (its FIN would wait for the app to exit), not
        // the state database. NIO does not open every descriptor close-on-exec.
        #if os(Linux)
        _ = posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        #endif

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        #if os(Linux)
        let closeOthers: Int32 = 0
        #else
        let closeOthers = Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | closeOthers))

        let arguments = ["/bin/sh", "-c", spec.command]
        let environment = spec.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0]); close(errPipe[0])
            if result == ENOENT {
                throw SupervisorError("cannot start the app in \(spec.directory): the directory does not exist")
            }
            throw SupervisorError("cannot start the app", errno: result)
        }
        let process = PosixProcess(pid: pid)
        Self.readLines(from: outPipe[0], stream: .stdout, output)
        Self.readLines(from: errPipe[0], stream: .stderr, output)
        process.waitInBackground()
        return process
    }

    private static func readLines(from fd: Int32, stream: AppLog.Stream, _ output: @escaping @Sendable (AppLog.Stream, String) -> Void) {
        let thread = Thread {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 8192)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: chunk[0..<count])
                while true {
                    let end: Int
                    let skip: Int
                    if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        (end, skip) = (newline, 1)
                    } else if pending.count >= maxLineBytes {
                        (end, skip) = (maxLineBytes, 0)
                    } else {
                        break
                    }
                    var line = pending[..<end]
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    output(stream, String(decoding: line, as: UTF8.self))
                    pending.removeSubrange(..<(end + skip))
                }
            }
            if !pending.isEmpty { output(stream, String(decoding: pending, as: UTF8.self)) }
            close(fd)
        }
        thread.name = "tako-log-\(stream.rawValue)"
        thread.start()
    }
}

// Not imported from Glibc (it needs _GNU_SOURCE); present in glibc 2.29+ and macOS 10.15+.
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func posix_spawn_file_actions_addchdir_np(
    _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>
) -> Int32

#if os(Linux)
// glibc 2.34+ (Debian 12 has 2.36); not imported without _GNU_SOURCE.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func posix_spawn_file_actions_addclosefrom_np(
    _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32
) -> Int32

/// Adds "close every descriptor from `from` up" to spawn actions: NIO does not open every
/// descriptor close-on-exec, and a child must not hold the parent's connections open.
public func spawnActionsCloseAll(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, from: Int32) {
    _ = posix_spawn_file_actions_addclosefrom_np(actions, from)
}
#endif

/// Runs `body` with a NULL-terminated C array of `strings`.
private func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}

/// A process started by `PosixProcessLauncher`.
final class PosixProcess: ManagedProcess {
    let pid: Int32
    private let latch = ProcessExitLatch()

    init(pid: Int32) {
        self.pid = pid
    }

    var hasExited: Bool { latch.exit != nil }

    func exited() async -> ProcessExit {
        await latch.wait()
    }

    func signalGroup(_ signal: Int32) {
        // Never signal after the exit was reaped: the group id could belong to someone else.
        latch.unlessExited { kill(-pid, signal) }
    }

    func waitInBackground() {
        let pid = self.pid
        let latch = self.latch
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            latch.complete((status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f))
        }
        thread.name = "tako-wait-\(pid)"
        thread.start()
    }
}
