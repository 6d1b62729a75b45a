/// What to run: a shell command in a directory with exactly this environment.
public struct LaunchSpec: Sendable, Hashable {
    /// Run by `/bin/sh -c`, so a `start` line from tako.toml works as written.
    public var command: String
    public var directory: String
    public var environment: [String: String]

    public init(command: String, directory: String, environment: [String: String]) {
        self.command = command
        self.directory = directory
        self.environment = environment
    }
}

/// How a process ended.
public enum ProcessExit: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal)\(signal == 9 ? " (SIGKILL)" : signal == 15 ? " (SIGTERM)" : "")"
        }
    }
}

/// Starts app processes. Injected so the supervisor's logic can be tested without spawning.
public protocol ProcessLauncher: Sendable {
    /// Starts `spec` in a process group of its own; every line it writes is passed to
    /// `output` (from another thread).
    func launch(_ spec: LaunchSpec, output: @escaping @Sendable (AppLog.Stream, String) -> Void) throws -> any ManagedProcess
}

/// A running process group.
public protocol ManagedProcess: AnyObject, Sendable {
    var pid: Int32 { get }
    /// Returns once the process has exited (at once if it already has).
    func exited() async -> ProcessExit
    /// Whether it has exited.
    var hasExited: Bool { get }
    /// Sends `signal` to the whole process group.
    func signalGroup(_ signal: Int32)
}
