/// The answer to `hello`: which protocol and server version the daemon runs and what it
/// can do, so a client can refuse early (or adapt) instead of failing mid-deploy.
public struct HelloInfo: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var serverVersion: String
    /// Feature names, e.g. `deploy_instances_idle_timeout`, `on_demand_cold_start`.
    public var capabilities: [String]
    /// The daemon's process id (optional: older servers did not send it); a graceful restart
    /// changes it.
    public var pid: Int32?
    /// When this daemon process started (seconds since 1970; optional like `pid`): a hard
    /// restart keeps the pid (the process executes itself again) but not this.
    public var startedAt: Double?

    public init(
        protocolVersion: Int = ManagementProtocol.version, serverVersion: String = TakoVersion.current,
        capabilities: [String], pid: Int32? = nil, startedAt: Double? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.capabilities = capabilities
        self.pid = pid
        self.startedAt = startedAt
    }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol_version"
        case serverVersion = "server_version"
        case capabilities, pid
        case startedAt = "started_at"
    }
}
