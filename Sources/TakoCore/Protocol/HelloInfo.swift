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

    public init(
        protocolVersion: Int = ManagementProtocol.version, serverVersion: String = TakoVersion.current,
        capabilities: [String], pid: Int32? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.capabilities = capabilities
        self.pid = pid
    }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol_version"
        case serverVersion = "server_version"
        case capabilities, pid
    }
}
