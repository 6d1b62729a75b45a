/// The answer to `restart_server`: the successor that serves now, and the process it replaced
/// (which drains and exits after answering).
public struct ServerRestart: Codable, Hashable, Sendable {
    public var pid: Int32
    public var previousPid: Int32

    public init(pid: Int32, previousPid: Int32) {
        self.pid = pid
        self.previousPid = previousPid
    }

    enum CodingKeys: String, CodingKey {
        case pid
        case previousPid = "previous_pid"
    }
}
