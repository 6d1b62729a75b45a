import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH `sshd` on a loopback address (127.0.0.2, 127.0.0.3, ...), as a deploy
/// target: its own host key, accepting `client`'s key for the user running the tests, and
/// giving sessions `environment` (the PATH to the built `tako-server`, its config).
public final class SSHHost {
    public let address: String
    public let port: Int
    public let directory: URL
    private var process: ChildProcess?
    private let configPath: String

    /// The developer's side: one key, one known_hosts file and an ssh_config that uses them
    /// (tests pass it as TAKO_SSH_CONFIG).
    public final class Client {
        public let directory: URL
        public let configPath: String
        public let publicKey: String

        public init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-ssh-client-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let key = directory.appendingPathComponent("id_ed25519").path
            let made = try Program.run("/usr/bin/env", ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tako-tests", "-f", key])
            guard made.status == 0 else { throw TestSupportError(message: "ssh-keygen: \(made.output)") }
            publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8)
            configPath = directory.appendingPathComponent("ssh_config").path
            let config = """
                Host *
                  IdentityFile \(key)
                  IdentitiesOnly yes
                  UserKnownHostsFile \(directory.appendingPathComponent("known_hosts").path)
                  GlobalKnownHostsFile /dev/null
                  PasswordAuthentication no
                  KbdInteractiveAuthentication no

                """
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        }
    }

    public static var currentUser: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
    }

    public init(address: String, client: Client, environment: [String: String]) throws {
        self.address = address
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tako-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let hostKey = directory.appendingPathComponent("host_ed25519").path
        let made = try Program.run("/usr/bin/env", ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        guard made.status == 0 else { throw TestSupportError(message: "ssh-keygen: \(made.output)") }
        let authorized = directory.appendingPathComponent("authorized_keys").path
        try client.publicKey.write(toFile: authorized, atomically: true, encoding: .utf8)
        chmod(authorized, 0o600)
        // sshd refuses to start without its privilege separation directory.
        if geteuid() == 0 { mkdir("/run/sshd", 0o755) }
        port = try Pebble.freePort()
        configPath = directory.appendingPathComponent("sshd_config").path
        let setEnv = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let config = """
            ListenAddress \(address):\(port)
            HostKey \(hostKey)
            PidFile none
            AuthorizedKeysFile \(authorized)
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            \(setEnv.isEmpty ? "" : "SetEnv \(setEnv)")
            LogLevel INFO

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts sshd (again, after `stop`); returns once it listens.
    public func start() throws {
        let process = try ChildProcess(
            ["/usr/sbin/sshd", "-D", "-e", "-f", configPath], readyOn: STDERR_FILENO,
            log: directory.appendingPathComponent("sshd.log").path)
        guard process.firstLine.contains("listening") else {
            throw TestSupportError(message: "sshd on \(address) did not start: \(process.firstLine)")
        }
        self.process = process
    }

    /// Stops sshd and drops its open connections (each is a child sshd in its own session),
    /// as a host that went down would: unreachable until `start`.
    public func stop() {
        guard let process else { return }
        let children = Self.children(of: process.pid)
        process.signal(SIGTERM)
        _ = process.waitForExit()
        for child in children { kill(child, SIGKILL) }
        self.process = nil
    }

    /// Drops every open connection (kills each connection's sshd) while sshd keeps
    /// listening: the network between client and host failing mid-session.
    public func dropConnections() {
        guard let process else { return }
        for child in Self.children(of: process.pid) { kill(child, SIGKILL) }
    }

    private static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // "pid (comm) state ppid ...": fields after the command's closing parenthesis.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// The host gets a new key (as a reinstalled server would) and starts again.
    public func replaceHostKey() throws {
        stop()
        let hostKey = directory.appendingPathComponent("host_ed25519").path
        try? FileManager.default.removeItem(atPath: hostKey)
        try? FileManager.default.removeItem(atPath: hostKey + ".pub")
        let made = try Program.run("/usr/bin/env", ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        guard made.status == 0 else { throw TestSupportError(message: "ssh-keygen: \(made.output)") }
        try start()
    }

    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
    }

    deinit {
        stop()
    }
}
