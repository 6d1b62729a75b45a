import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// The host's half of `tako servers upgrade` (`tako-server ctl upgrade`, run over SSH by the
/// running binary): takes the upgrade lock, receives the new binary on stdin with its
/// checksum, checks that it runs here, puts it at the path the daemon restarts from (the old
/// file stays as `tako-server.previous`), and has the daemon hand over to it gracefully.
/// Any failure puts the previous binary back; the running server never stopped serving.
/// The lock is released at the end either way.
public struct BinaryUpgrade {
    /// Largest binary accepted.
    public static let maxBinaryBytes: Int64 = 1 << 30
    /// How long `candidate --version` may take.
    static let versionTimeout: Duration = .seconds(30)

    public var size: Int64
    public var sha256: String
    /// Who upgrades (`alice@laptop`): the upgrade lock's owner.
    public var owner: String

    public init(size: Int64, sha256: String, owner: String) {
        self.size = size
        self.sha256 = sha256.lowercased()
        self.owner = owner
    }

    public func perform(socket: String, input: Int32 = STDIN_FILENO) throws(UserError) -> ServerUpgrade {
        try validate()
        let before = try ManagementClient.call(.hello, path: socket, as: HelloInfo.self)
        let info = try ManagementClient.call(.serverInfo, path: socket, as: ServerInfo.self)
        guard before.capabilities.contains("binary_upgrade"), let executable = info.executable, let previousPid = before.pid else {
            throw UserError(
                "tako-server \(before.serverVersion) cannot upgrade itself",
                hint: "install the new binary with scripts/install-server.sh on the host")
        }
        let directory = (executable as NSString).deletingLastPathComponent
        guard access(directory, W_OK) == 0 else {
            throw UserError(
                "cannot replace \(executable): \(Self.userName) may not write to \(directory)",
                hint: "reinstall once with the current scripts/install-server.sh, which keeps tako-server in /opt/tako/bin owned by tako")
        }
        _ = try ManagementClient.call(.enterUpgrading(owner: owner), path: socket, as: EmptyPayload.self)
        defer { _ = try? ManagementClient.call(.exitUpgrading(owner: owner), path: socket, as: EmptyPayload.self) }

        let candidate = directory + "/.tako-server.upgrade-\(getpid())"
        defer { unlink(candidate) }
        var reader = InputReader(descriptor: input, stall: ReleaseReceiver.stallTimeout)
        try reader.receive(
            size, into: candidate, sha256: sha256, what: "tako-server binary", again: "run the upgrade again",
            writeHint: "check that the tako user owns \(directory)")
        // The upload is complete: what follows must finish even if the SSH connection drops
        // (its hangup would otherwise kill this process between the swap and the handoff).
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        chmod(candidate, 0o755)
        let version = try Self.version(of: candidate)

        // The swap: the running binary stays reachable as .previous (a hard link, so the
        // path itself is never missing), then the new file is renamed over it atomically.
        let previous = executable + ".previous"
        unlink(previous)
        guard link(executable, previous) == 0 else {
            throw UserError("cannot keep the running binary as \(previous): \(String(cString: strerror(errno)))", hint: "check the permissions of \(directory)")
        }
        guard rename(candidate, executable) == 0 else {
            throw UserError("cannot put the new binary at \(executable): \(String(cString: strerror(errno)))", hint: "check the permissions of \(directory)")
        }
        let restart: ServerRestart
        do {
            restart = try ManagementClient.call(.restartServer(hard: false), path: socket, as: ServerRestart.self)
        } catch {
            rename(previous, executable)
            throw UserError(
                "the new tako-server \(version) did not take over, so the upgrade was undone: \(error.message)",
                hint: "the previous tako-server keeps serving with the previous binary; its log (journalctl -u tako-server) has the new server's messages")
        }
        let after = try ManagementClient.call(.hello, path: socket, as: HelloInfo.self)
        guard after.serverVersion == version, after.pid == restart.pid else {
            // Something else answers: go back to what ran before.
            rename(previous, executable)
            _ = try? ManagementClient.call(.restartServer(hard: false), path: socket, as: ServerRestart.self)
            throw UserError(
                "after the handoff tako-server reports version \(after.serverVersion) (pid \(after.pid ?? 0)), not \(version) (pid \(restart.pid)); the previous binary was put back",
                hint: "check what runs on the host (tako-server ctl hello)")
        }
        return ServerUpgrade(
            previousVersion: before.serverVersion, version: version, previousPid: previousPid, pid: restart.pid, executable: executable)
    }

    private func validate() throws(UserError) {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw UserError("--sha256 must be 64 hex digits", hint: "tako servers upgrade sends the binary's SHA-256")
        }
        guard size > 0, size <= Self.maxBinaryBytes else {
            throw UserError("--size \(size) is out of range", hint: "a tako-server binary is 1 byte to 1 GiB")
        }
        guard !owner.isEmpty, owner.count <= 200, !owner.contains(where: \.isNewline) else {
            throw UserError("--owner must be one line of at most 200 characters", hint: "for example alice@laptop")
        }
    }

    /// What `candidate --version` prints: proof that the file is a program for this machine.
    static func version(of candidate: String) throws(UserError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: candidate)
        process.arguments = ["--version"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw UserError(
                "the uploaded file does not run on this host: \(error.localizedDescription)",
                hint: "upload the tako-server build for Linux \(Self.machine)")
        }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(versionTimeout.components.seconds)), execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        let text = String(decoding: data.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let version = text.split(separator: " ").last.map(String.init) ?? ""
        guard process.terminationReason == .exit, process.terminationStatus == 0, !text.contains("\n"), !version.isEmpty,
            version.count <= 64, version.allSatisfy({ $0.isLetter || $0.isNumber || ".-+_".contains($0) })
        else {
            let said = text.split(separator: "\n").first.map { ": \($0.prefix(200))" } ?? ""
            throw UserError(
                "the uploaded file is not a tako-server for this host ('--version' failed\(said))",
                hint: "upload the tako-server build for Linux \(Self.machine)")
        }
        return version
    }

    static var machine: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static var userName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "uid \(geteuid())" }
        return String(cString: name)
    }
}
