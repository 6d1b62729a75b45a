/// The answer to `server_info`: where the daemon keeps things and how it is set up.
///
/// The CLI asks for this instead of hard-coding remote paths (DESIGN §3), so a host
/// configured elsewhere, and every test host, just works.
public struct ServerInfo: Codable, Hashable, Sendable {
    /// `upgrading` while an upgrade holds the lock; mutating commands are refused then.
    public enum Mode: String, Codable, Hashable, Sendable {
        case normal
        case upgrading
    }

    public var mode: Mode
    /// Path of the management socket.
    public var socket: String
    /// The data directory (`/opt/tako` by default); apps live in `{data_dir}/apps/`.
    public var dataDir: String
    public var httpPort: Int
    public var httpsPort: Int
    public var serverVersion: String?
    /// `acme` or `internal`.
    public var tlsIssuer: String?
    public var acmeStaging: Bool?
    public var acmeEmail: String?
    public var acmeDirectoryURL: String?
    /// The binary a graceful restart starts (the daemon's own path): what an upgrade
    /// replaces. Absent from servers that cannot upgrade themselves.
    public var executable: String?

    public init(
        mode: Mode, socket: String, dataDir: String, httpPort: Int, httpsPort: Int,
        serverVersion: String? = nil, tlsIssuer: String? = nil, acmeStaging: Bool? = nil,
        acmeEmail: String? = nil, acmeDirectoryURL: String? = nil, executable: String? = nil
    ) {
        self.mode = mode
        self.socket = socket
        self.dataDir = dataDir
        self.httpPort = httpPort
        self.httpsPort = httpsPort
        self.serverVersion = serverVersion
        self.tlsIssuer = tlsIssuer
        self.acmeStaging = acmeStaging
        self.acmeEmail = acmeEmail
        self.acmeDirectoryURL = acmeDirectoryURL
        self.executable = executable
    }

    // Synthesized coding uses encodeIfPresent for optionals, so nil fields are omitted.
    enum CodingKeys: String, CodingKey {
        case mode, socket
        case dataDir = "data_dir"
        case httpPort = "http_port"
        case httpsPort = "https_port"
        case serverVersion = "server_version"
        case tlsIssuer = "tls_issuer"
        case acmeStaging = "acme_staging"
        case acmeEmail = "acme_email"
        case acmeDirectoryURL = "acme_directory_url"
        case executable
    }
}
