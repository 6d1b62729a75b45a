import Foundation
import TakoCore

/// Runs `tako-server ctl ...` on a host through the system's OpenSSH client, so the user's
/// keys, ssh-agent, `~/.ssh/config` (ProxyJump, ...) and known_hosts all apply.
///
/// - One master connection per host is shared by every command (ControlMaster, sockets under
///   `{TAKO_HOME}/ssh/`, kept 60 s after the last use).
/// - Without a terminal, BatchMode: never a password or host-key prompt.
/// - A new host key is accepted on first use; a changed one is refused (`accept-new`).
/// - Every remote argument is shell-quoted (`ShellQuote`): user values are never syntax.
///
/// `TAKO_SSH_CONFIG` names an ssh_config file to use instead of `~/.ssh/config`;
/// `TAKO_SERVER_BINARY` the program to run on hosts (default `tako-server` on the PATH).
struct SSHTransport: Sendable {
    let controlDirectory: URL
    let batchMode: Bool
    let configFile: String?
    let serverBinary: String

    init(home: TakoHome, environment: [String: String], interactive: Bool) {
        controlDirectory = home.root.appendingPathComponent("ssh", isDirectory: true)
        batchMode = !interactive
        configFile = environment["TAKO_SSH_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        serverBinary = environment["TAKO_SERVER_BINARY"].flatMap { $0.isEmpty ? nil : $0 } ?? "tako-server"
    }

    /// The full `ssh` argument list for `remote` (already the words to run remotely).
    func arguments(for server: ServerEntry, remote: [String]) -> [String] {
        var arguments: [String] = []
        if let configFile { arguments += ["-F", configFile] }
        arguments += [
            "-o", "ControlMaster=auto",
            "-o", "ControlPath=\(controlDirectory.path)/%C",
            "-o", "ControlPersist=60",
            "-o", "StrictHostKeyChecking=accept-new",
            "-o", "ConnectTimeout=10",
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4",
            "-o", "LogLevel=ERROR",
        ]
        if batchMode { arguments += ["-o", "BatchMode=yes"] }
        arguments += ["-p", String(server.port), "-l", server.user, "-T", "--", server.host]
        arguments.append(ShellQuote.command(remote))
        return arguments
    }

    /// Runs `tako-server ctl COMMAND ARGUMENTS...` on `server`.
    func ctl(
        _ server: ServerEntry, _ command: [String], input: ProcessRunner.Input = .none,
        onLine: ProcessRunner.LineHandler? = nil
    ) async throws(UserError) -> ProcessRunner.Result {
        try? FileManager.default.createDirectory(at: controlDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let result: ProcessRunner.Result
        do {
            result = try await ProcessRunner.run(
                "/usr/bin/env", ["ssh"] + arguments(for: server, remote: [serverBinary, "ctl"] + command), input: input, onLine: onLine)
        } catch {
            throw UserError("cannot run ssh: \(error)", hint: "install the OpenSSH client")
        }
        if result.status != 0 { throw Self.failure(result, server: server) }
        return result
    }

    /// What went wrong, from ssh's exit status and messages or tako-server's error lines.
    static func failure(_ result: ProcessRunner.Result, server: ServerEntry) -> UserError {
        let text = result.stderr
        let target = "\(server.user)@\(server.host):\(server.port)"
        // ssh itself failed (255); anything else is the remote command's own answer, whose
        // words ("Permission denied" on a file, say) must not be mistaken for ssh's.
        let sshFailed = result.status == 255
        if sshFailed, text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || text.contains("Host key verification failed") {
            return UserError(
                "the SSH host key of \(server.name) (\(server.host)) has changed, so tako refused to connect",
                hint: "if the server was reinstalled, remove its old key with: ssh-keygen -R '[\(server.host)]:\(server.port)' (or ssh-keygen -R \(server.host))")
        }
        if sshFailed, text.contains("Permission denied") || text.contains("Too many authentication failures") {
            return UserError(
                "SSH authentication to \(target) failed",
                hint: "load your key into ssh-agent or add it to the server: ssh-copy-id -p \(server.port) \(server.user)@\(server.host)")
        }
        if sshFailed, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            || text.contains("Broken pipe") || text.contains("closed by remote host") || text.contains("Connection reset")
        {
            // Connected, then cut off (a refused or unknown host says so on stderr).
            return UserError(
                "the SSH connection to \(server.name) (\(target)) was lost before tako-server answered",
                hint: "check that the host is up and reachable, then run the command again (an interrupted deploy leaves the host as it was)")
        }
        if sshFailed {
            let reason = text.split(separator: "\n").last.map { String($0).replacingOccurrences(of: "ssh: ", with: "") } ?? "no answer"
            return UserError(
                "cannot reach \(server.name) at \(target): \(reason)",
                hint: "check the address and port, and that sshd runs there (tako servers ls shows what is configured)")
        }
        if result.status == 127 || text.contains("command not found") || text.contains("No such file or directory") && text.contains("tako-server") {
            return UserError(
                "tako-server is not installed on \(server.name) (\(server.host))",
                hint: "install it there with scripts/install-server.sh, then try again")
        }
        // tako-server ctl: "error: MESSAGE" (which may run over several lines: a failed
        // deploy quotes the app's last log lines), then "hint: HINT". Exit 3: no server answers.
        var message = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var hint: String?
        if let start = text.range(of: "error: ") {
            var body = text[start.upperBound...]
            if let hintStart = body.range(of: "\nhint: ") {
                hint = body[hintStart.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
                body = body[..<hintStart.lowerBound]
            }
            message = body.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if message.isEmpty { message = "the remote command failed with status \(result.status)" }
        if result.status == 3 {
            return UserError("tako-server is not running on \(server.name): \(message)", hint: hint ?? "start it there (systemctl start tako-server)")
        }
        return UserError("\(server.name): \(message)", hint: hint)
    }
}
