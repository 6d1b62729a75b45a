import Crypto
import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// The host's half of a deploy (`tako-server ctl ship`, run by the CLI over SSH): takes the
/// app's deploy lock, checks the disk, receives the release archive on stdin with its
/// checksum, unpacks it safely into `{data_dir}/apps/{app}/releases/{version}`, asks the
/// daemon for the rolling deploy, and prunes old releases. Any failure removes what this
/// deploy wrote and leaves the running release alone.
public struct ReleaseReceiver {
    /// Releases kept per app (the current one always among them).
    public static let keptReleases = 10
    /// An upload that makes no progress for this long is abandoned (and the lock released).
    public static let stallTimeout: Duration = .seconds(120)
    /// Largest archive accepted.
    public static let maxArchiveBytes: Int64 = 16 << 30

    public var request: DeployRequest
    public var size: Int64
    public var sha256: String
    /// Who deploys (`alice@laptop`), recorded in the lock.
    public var holder: String
    /// Secrets arrive first on stdin, as one JSON line, when set.
    public var secretsOnInput: Bool

    public init(request: DeployRequest, size: Int64, sha256: String, holder: String, secretsOnInput: Bool) {
        self.request = request
        self.size = size
        self.sha256 = sha256.lowercased()
        self.holder = holder
        self.secretsOnInput = secretsOnInput
    }

    /// Does the whole deploy; returns the daemon's answer frame to the `deploy` command.
    public func receive(socket: String, input: Int32 = STDIN_FILENO) throws(UserError) -> Data {
        try validate()
        let info: ServerInfo
        do {
            let frame = try ManagementClient.send(ManagementRequest(.serverInfo), path: socket)
            info = try ManagementFrame.decode(ManagementResponse<ServerInfo>.self, from: frame).get()
        } catch let error as UserError {
            throw error
        } catch let error as ManagementProtocolError {
            throw UserError("tako-server did not say where its data lives: \(error.message)", hint: error.hint)
        } catch {
            throw UserError("tako-server did not say where its data lives: \(error)")
        }
        let appDirectory = info.dataDir + "/apps/" + request.app
        let releases = appDirectory + "/releases"
        do {
            try FileManager.default.createDirectory(atPath: releases, withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create \(releases)", hint: "check that the tako user owns \(info.dataDir)")
        }
        let lock = try DeployLock.acquire(appDirectory: appDirectory, app: request.app, holder: holder)
        defer { lock.release() }
        Self.sweep(releases)
        try checkDiskSpace(releases)

        let stamp = "\(getpid())"
        let archive = releases + "/.incoming-\(request.version)-\(stamp).tar.gz"
        let unpacked = releases + "/.unpack-\(request.version)-\(stamp)"
        defer {
            unlink(archive)
            try? FileManager.default.removeItem(atPath: unpacked)
        }
        var reader = InputReader(descriptor: input, stall: Self.stallTimeout)
        var deploy = request
        if secretsOnInput {
            let line = try reader.line(limit: 1 << 20)
            guard let secrets = try? JSONDecoder().decode([String: String].self, from: line) else {
                throw UserError("the secrets sent with the release are not a JSON object of strings", hint: "deploy again with tako deploy")
            }
            deploy.secrets = secrets
        }
        try reader.receive(
            size, into: archive, sha256: sha256, what: "release archive", again: "deploy again",
            writeHint: "check the data directory's permissions")
        try unpack(archive, into: unpacked)

        // Into place: a release of the same version moves aside (running instances keep
        // their directory) and goes once the deploy has succeeded.
        let release = releases + "/" + request.version
        let previous = releases + "/.replaced-\(request.version)-\(stamp)"
        let replacing = FileManager.default.fileExists(atPath: release)
        if replacing, rename(release, previous) != 0 {
            throw UserError("cannot move the earlier \(release) aside: \(String(cString: strerror(errno)))", hint: "check the data directory's permissions")
        }
        guard rename(unpacked, release) == 0 else {
            if replacing { rename(previous, release) }
            throw UserError("cannot move the release into \(release): \(String(cString: strerror(errno)))", hint: "check the data directory's permissions")
        }
        deploy.releasePath = release
        let answer: Data
        do {
            answer = try ManagementClient.send(ManagementRequest(.deploy(deploy)), path: socket)
        } catch {
            // The server went away mid-deploy (it never made the release current: that comes
            // last): the release goes, an earlier one of the same name comes back.
            try? FileManager.default.removeItem(atPath: release)
            if replacing { rename(previous, release) }
            throw error
        }
        if Self.isOK(answer) {
            if replacing { try? FileManager.default.removeItem(atPath: previous) }
            Self.prune(releases, keep: Self.keptReleases, current: release)
        } else {
            // The failed release goes; an earlier one of the same name comes back.
            try? FileManager.default.removeItem(atPath: release)
            if replacing { rename(previous, release) }
        }
        return answer
    }

    // MARK: Steps

    private func validate() throws(UserError) {
        if let problem = AppName.problem(with: request.app) {
            throw UserError("the app name '\(request.app)' \(problem)", hint: "app names are lower-case letters, digits and '-'")
        }
        guard ReleaseVersion.isValid(request.version) else {
            throw UserError("'\(request.version)' is not a release version", hint: "versions are letters, digits and '_'")
        }
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw UserError("--sha256 must be 64 hex digits", hint: "tako deploy sends the archive's SHA-256")
        }
        guard size > 0, size <= Self.maxArchiveBytes else {
            throw UserError("--size \(size) is out of range", hint: "archives are 1 byte to 16 GiB")
        }
    }

    /// Room for the archive, its contents (estimated at four times its size) and a reserve.
    private func checkDiskSpace(_ directory: String) throws(UserError) {
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return }
        let available = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        let needed = size * 5 + (64 << 20)
        guard available >= needed else {
            throw UserError(
                "not enough disk space for the release: \(available >> 20) MiB free in \(directory), about \(needed >> 20) MiB needed",
                hint: "free some space on the host (old releases of other apps, logs), then deploy again")
        }
    }

    /// `gzip -dc` into `TarParser` into `ReleaseUnpacker`.
    private func unpack(_ archive: String, into directory: String) throws(UserError) {
        guard mkdir(directory, 0o755) == 0 else {
            throw UserError("cannot create \(directory): \(String(cString: strerror(errno)))", hint: "check the data directory's permissions")
        }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "exec gzip -dc -- \"$1\"", "gzip", archive]
        let output = Pipe()
        let errors = Pipe()
        gzip.standardOutput = output
        gzip.standardError = errors
        gzip.standardInput = FileHandle.nullDevice
        do {
            try gzip.run()
        } catch {
            throw UserError("cannot run gzip to unpack the release: \(error)", hint: "install gzip on the host")
        }
        var parser = TarParser()
        var unpacker = ReleaseUnpacker(root: directory)
        var failure: UserError?
        let handle = output.fileHandleForReading
        while failure == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            do {
                try parser.feed([UInt8](chunk)[...]) { event in try unpacker.handle(event) }
            } catch let error as UserError {
                failure = error
            } catch {
                failure = UserError("the release cannot be unpacked: \(error)")
            }
        }
        unpacker.abandon()
        if failure != nil { gzip.terminate() }
        // Drain so gzip never blocks on a full pipe before it exits.
        while !handle.availableData.isEmpty {}
        gzip.waitUntilExit()
        if let failure { throw failure }
        guard gzip.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw UserError(
                "the release archive is not a valid gzip file: \(message.trimmingCharacters(in: .whitespacesAndNewlines))",
                hint: "deploy again; archives are made by tako deploy")
        }
        try parser.finish()
        try unpacker.finish()
    }

    // MARK: Helpers

    static func isOK(_ frame: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: frame) as? [String: Any])?["status"] as? String == "ok"
    }

    /// What a deploy of this app that died part-way (its process killed, the host rebooted)
    /// left in `releases`: uploads and unpacked trees go, and a release moved aside for a
    /// redeploy of the same version comes back. Called under the app's deploy lock, so no
    /// deploy of it is running.
    static func sweep(_ releases: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: releases)) ?? []
        for name in names where name.hasPrefix(".incoming-") || name.hasPrefix(".unpack-") {
            try? FileManager.default.removeItem(atPath: releases + "/" + name)
        }
        for name in names where name.hasPrefix(".replaced-") {
            // ".replaced-VERSION-PID" (versions have no '-').
            let rest = name.dropFirst(".replaced-".count)
            guard let dash = rest.lastIndex(of: "-"), ReleaseVersion.isValid(String(rest[..<dash])) else { continue }
            let release = releases + "/" + rest[..<dash]
            try? FileManager.default.removeItem(atPath: release)
            rename(releases + "/" + name, release)
        }
    }

    /// Keeps the `keep` newest releases (by modification time) and always `current`.
    static func prune(_ releases: String, keep: Int, current: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: releases)) ?? []).filter { !$0.hasPrefix(".") }
        let dated = names.map { name -> (String, Date) in
            let path = releases + "/" + name
            let date = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            return (path, date)
        }
        for (path, _) in dated.sorted(by: { $0.1 > $1.1 }).dropFirst(keep) where path != current {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// Reads stdin with a stall timeout: a client that stops sending is not waited for forever
/// (it would hold the deploy lock).
struct InputReader {
    let descriptor: Int32
    let stall: Duration
    private var buffered: [UInt8] = []

    init(descriptor: Int32, stall: Duration) {
        self.descriptor = descriptor
        self.stall = stall
    }

    mutating func read(upTo count: Int) throws(UserError) -> [UInt8] {
        if !buffered.isEmpty {
            let taken = Array(buffered.prefix(count))
            buffered.removeFirst(taken.count)
            return taken
        }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(stall.components.seconds * 1000)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                throw UserError("the upload stalled (nothing received for \(stall.components.seconds) s)", hint: "check the connection, then deploy again")
            }
            break
        }
        var chunk = [UInt8](repeating: 0, count: count)
        let got = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, count) }
        guard got >= 0 else { throw UserError("cannot read the upload: \(String(cString: strerror(errno)))", hint: "deploy again") }
        return Array(chunk.prefix(got))
    }

    /// Copies exactly `size` bytes into a new file at `path` (mode 0600), which must hash to
    /// `sha256`; `what` and `again` name the upload and its retry in messages. The caller
    /// removes the file when this throws.
    mutating func receive(
        _ size: Int64, into path: String, sha256: String, what: String, again: String, writeHint: String
    ) throws(UserError) {
        let file = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw UserError("cannot create \(path): \(String(cString: strerror(errno)))", hint: writeHint) }
        defer { close(file) }
        var hash = SHA256()
        var received: Int64 = 0
        while received < size {
            let chunk = try read(upTo: Int(min(size - received, 1 << 20)))
            guard !chunk.isEmpty else {
                throw UserError("the upload ended after \(received) of \(size) bytes", hint: "the connection dropped; \(again)")
            }
            hash.update(data: chunk)
            guard FileDescriptor.writeAll(file, chunk) else {
                throw UserError("cannot write \(path): \(String(cString: strerror(errno)))", hint: "check the disk space on the host")
            }
            received += Int64(chunk.count)
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == sha256 else {
            throw UserError("the \(what)'s checksum does not match (received \(digest))", hint: "the upload was corrupted; \(again)")
        }
    }

    /// One newline-terminated line (without the newline), at most `limit` bytes.
    mutating func line(limit: Int) throws(UserError) -> Data {
        var line: [UInt8] = []
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                line += buffered[..<newline]
                buffered.removeFirst(newline + 1)
                return Data(line)
            }
            line += buffered
            buffered.removeAll()
            guard line.count <= limit else { throw UserError("the secrets line is longer than \(limit) bytes", hint: "deploy again") }
            let chunk = try read(upTo: 65536)
            guard !chunk.isEmpty else { throw UserError("the upload ended before the release began", hint: "deploy again") }
            buffered = chunk
        }
    }
}

/// `read(2)`, out of reach of `InputReader.read(upTo:)`'s name.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
