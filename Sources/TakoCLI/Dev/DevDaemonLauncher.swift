import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the running tako-dev-server, or starts one in its own session (so Ctrl-C in this
/// terminal does not reach it) with its output in `{TAKO_HOME}/dev-server.log`.
enum DevDaemonLauncher {
    static let startTimeout: Duration = .seconds(15)

    static func ensureRunning(home: TakoHome, environment: [String: String], terminal: Terminal) async throws -> DevDaemonInfo {
        let client = DevClient(home: home)
        if let info = try? client.hello() { return info }
        let binary = try locate(environment: environment)
        terminal.debug("starting \(binary)")
        let pid = try spawn(binary, log: home.devServerLog.path, environment: environment)
        let clock = ContinuousClock()
        let deadline = clock.now + startTimeout
        while clock.now < deadline {
            if let info = try? client.hello() { return info }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }  // it gave up: its log says why
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = lastLines(of: home.devServerLog.path, count: 12)
        throw CLIError(
            "tako-dev-server did not start within \(startTimeout.components.seconds) s.",
            hint: tail.isEmpty
                ? "Its log \(home.devServerLog.path) is empty; run \(binary) serve to see what happens."
                : "The end of \(home.devServerLog.path):\n" + tail.map { "    " + $0 }.joined(separator: "\n"))
    }

    /// `TAKO_DEV_SERVER_BINARY`, else `tako-dev-server` beside this `tako`, else on PATH.
    static func locate(environment: [String: String]) throws -> String {
        if let explicit = environment["TAKO_DEV_SERVER_BINARY"], !explicit.isEmpty { return explicit }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let beside = own.deletingLastPathComponent().appendingPathComponent("tako-dev-server").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/tako-dev-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CLIError("tako-dev-server is not installed.", hint: "Install it beside tako, or set TAKO_DEV_SERVER_BINARY.")
    }

    private static func spawn(_ binary: String, log: String, environment: [String: String]) throws -> pid_t {
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        let newSession: Int16 = 0x80  // POSIX_SPAWN_SETSID (glibc), not imported into Swift
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        let newSession = Int16(POSIX_SPAWN_SETSID)
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawnattr_setflags(&attributes, newSession)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [binary, "serve"]
        let variables = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let status = posix_spawn(&pid, binary, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw CLIError("Cannot start \(binary): \(String(cString: strerror(status))).", hint: "Check that it is executable.")
        }
        return pid
    }

    static func lastLines(of path: String, count: Int) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return Array(String(decoding: data.suffix(16384), as: UTF8.self).split(separator: "\n").suffix(count).map(String.init))
    }
}
