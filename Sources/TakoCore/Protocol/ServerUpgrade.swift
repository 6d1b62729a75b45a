/// What `tako-server ctl upgrade` prints once the new binary serves: the versions and pids
/// before and after, and the path that now holds the new binary.
public struct ServerUpgrade: Codable, Hashable, Sendable {
    public var previousVersion: String
    public var version: String
    public var previousPid: Int32
    public var pid: Int32
    public var executable: String

    public init(previousVersion: String, version: String, previousPid: Int32, pid: Int32, executable: String) {
        self.previousVersion = previousVersion
        self.version = version
        self.previousPid = previousPid
        self.pid = pid
        self.executable = executable
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, executable
        case previousVersion = "previous_version"
        case previousPid = "previous_pid"
    }
}
