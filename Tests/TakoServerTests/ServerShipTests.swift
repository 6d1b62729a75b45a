import Crypto
import Foundation
import TakoTestSupport
import Testing

@testable import TakoServer

/// `tako-server ctl ship`: a release archive on stdin, unpacked and rolled out, with the
/// deploy lock, checksum and safety checks (what `tako deploy` runs over SSH).
@Suite("tako-server ctl ship")
struct ServerShipTests {
    /// A .tar.gz of the fixture app made by the system's tar.
    static func archive(of release: String) throws -> Data {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ship-\(UUID().uuidString.prefix(8)).tar.gz")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try Program.run("/usr/bin/env", ["tar", "-czf", out.path, "-C", release, "."])
        guard result.status == 0 else { throw TestSupportError(message: result.output) }
        return try Data(contentsOf: out)
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    func ship(
        _ server: ServerProcess, app: String = "web", version: String, archive: Data, sha256: String? = nil,
        size: Int? = nil, secrets: [String: String]? = nil, route: String = "web.test"
    ) throws -> ProgramResult {
        var arguments = [
            "ctl", "ship", app, "--version", version, "--route", route, "--instances", "1",
            "--size", String(size ?? archive.count), "--sha256", sha256 ?? Self.sha256(archive), "--holder", "tester@ci",
            "--socket", server.socket,
        ]
        var input = Data()
        if let secrets {
            arguments.append("--secrets")
            input = try JSONEncoder().encode(secrets) + Data("\n".utf8)
        }
        return try Program.run(BuiltProducts.path("tako-server"), arguments, stdin: input + archive)
    }

    func releases(_ server: ServerProcess, _ app: String = "web") throws -> [String] {
        let path = server.directory.appendingPathComponent("data/apps/\(app)/releases").path
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @Test("a shipped archive is unpacked into releases/VERSION, deployed, and current points at it")
    func shipsAndDeploys() throws {
        let server = try ServerProcess()
        let archive = try Self.archive(of: try server.release("web-v1"))
        let result = try ship(server, version: "v1", archive: archive, secrets: ["API_TOKEN": "s3cret-value"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.json?["state"] as? String == "running")
        #expect(!result.output.contains("s3cret-value"), "secrets never appear in the answer")
        #expect(try releases(server) == ["v1"], "no leftovers beside the release")
        #expect(try server.get("web.test", "/env/TAKO_BUILD").body == Data("v1".utf8))
        #expect(try server.get("web.test", "/env/API_TOKEN").body == Data("s3cret-value".utf8), "secrets reach the app")
        let current = try FileManager.default.destinationOfSymbolicLink(
            atPath: server.directory.appendingPathComponent("data/apps/web/current").path)
        #expect(current.hasSuffix("/apps/web/releases/v1"))
        let database = try Data(contentsOf: server.directory.appendingPathComponent("data/runtime-state.sqlite3"))
        #expect(database.range(of: Data("s3cret-value".utf8)) == nil, "secrets are sealed at rest")
    }

    @Test("a secret reaches only its app: never an answer, an error, a log, the status page, a process listing or a file readable by others")
    func secretsStayHidden() throws {
        let server = try ServerProcess()
        let secret = "tk-\(UUID().uuidString)"
        let archive = try Self.archive(of: try server.release("web-v1"))
        #expect(try ship(server, version: "v1", archive: archive, secrets: ["API_TOKEN": secret]).status == 0)
        #expect(try server.get("web.test", "/env/API_TOKEN").body == Data(secret.utf8))
        // A failing deploy and refused commands, with the secret in their requests.
        let crash = try server.release("web-v2")
        let failed = try server.ctl(["deploy", "web", "--version", "v2", "--release", crash, "--route", "web.test", "--var", "MODE=crash"])
        #expect(failed.status == 1)
        let refused = try server.ctl(["update-secrets", "nope"], stdin: "{\"API_TOKEN\": \"\(secret)\"}")
        #expect(refused.status == 1)
        var seen: [String: String] = [
            "failed deploy": failed.output, "refused update": refused.output,
            "status": try server.ctl(["status"]).output, "logs": try server.ctl(["logs", "web", "--lines", "1000"]).output,
            "server-info": try server.ctl(["server-info"]).output, "routes": try server.ctl(["routes"]).output,
            "status page": String(decoding: try server.get("web.test", "/_tako/status").body, as: UTF8.self),
            "server log": ServerProcess.read(server.logPath), "app log": server.appLog("web"),
        ]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            seen["/proc/\(entry)/cmdline"] = (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8)) ?? ""
        }
        for (place, text) in seen {
            #expect(!text.contains(secret), "the secret appears in \(place)")
        }
        // Every file of the server's data that holds state or keys is the server's alone.
        let data = server.directory.appendingPathComponent("data").path
        for name in ["runtime-state.sqlite3", "runtime-state.sqlite3-wal", "runtime-state.sqlite3-shm", "host.key"] {
            let path = data + "/" + name
            guard let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int else { continue }
            #expect(mode & 0o077 == 0, "\(name) is \(String(mode, radix: 8))")
            if let bytes = FileManager.default.contents(atPath: path) {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret is in \(name) in the clear")
            }
        }
    }

    @Test(
        "a write that fails part-way (the disk full: here a file-size limit) is a clear error and leaves nothing behind",
        .disabled(if: Sanitizers.thread, "ThreadSanitizer's runtime itself cannot start under a file-size limit"))
    func diskFullDuringUpload() throws {
        let server = try ServerProcess()
        let release = try server.release("web-v1")
        // A megabyte that does not compress, so the archive is larger than the limit below.
        try Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: release + "/blob.bin"))
        let archive = try Self.archive(of: release)
        let file = server.directory.appendingPathComponent("v1.tar.gz")
        try archive.write(to: file)
        // 512 blocks of 512 bytes: writes past 256 KiB fail with EFBIG (SIGXFSZ ignored).
        let full = try Program.run(
            "/bin/sh",
            ["-c", "trap '' XFSZ; ulimit -f 512; exec \"$0\" ctl ship web --version v1 --route web.test --size \"$1\" --sha256 \"$2\" --holder tester@ci --socket \"$3\" < \"$4\"",
             BuiltProducts.path("tako-server"), String(archive.count), Self.sha256(archive), server.socket, file.path])
        #expect(full.status == 1, "\(full.output)")
        #expect(full.stderr.contains("cannot write") && full.stderr.contains("File too large"), "\(full.stderr)")
        #expect(full.stderr.contains("hint: check the disk space on the host"), "\(full.stderr)")
        #expect(try releases(server) == [], "the partial upload was removed")
        let again = try ship(server, version: "v1", archive: archive)
        #expect(again.status == 0, "the lock was released: \(again.output)")
    }

    @Test("a wrong checksum or a cut-short upload is refused and leaves nothing behind")
    func badUploads() throws {
        let server = try ServerProcess()
        let archive = try Self.archive(of: try server.release("web-v1"))
        let wrong = try ship(server, version: "v1", archive: archive, sha256: String(repeating: "0", count: 64))
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("checksum does not match"), "\(wrong.output)")
        let short = try ship(server, version: "v1", archive: archive, size: archive.count + 100)
        #expect(short.status == 1)
        #expect(short.stderr.contains("ended after \(archive.count) of \(archive.count + 100) bytes"), "\(short.output)")
        let garbage = Data("this is not gzip".utf8)
        let notGzip = try ship(server, version: "v1", archive: garbage)
        #expect(notGzip.status == 1 && notGzip.stderr.contains("gzip"), "\(notGzip.output)")
        let left = try releases(server)
        #expect(left.isEmpty, "\(left)")
        let routes = try server.ctlOK(["routes"])["routes"] as? [Any]
        #expect(routes?.isEmpty == true, "nothing was deployed")
    }

    @Test("an archive with a path outside the release is refused before anything runs")
    func hostileArchive() throws {
        let server = try ServerProcess()
        let work = server.directory.appendingPathComponent("hostile")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let script = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w:gz")
            data = b"owned"
            info = tarfile.TarInfo("../../../escaped"); info.size = len(data); t.addfile(info, io.BytesIO(data))
            t.close()
            """
        let path = work.appendingPathComponent("evil.tar.gz").path
        #expect(try Program.run("/usr/bin/env", ["python3", "-c", script, path]).status == 0)
        let result = try ship(server, version: "v1", archive: try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(result.status == 1)
        #expect(result.stderr.contains("'..' component"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("data/escaped").path))
        #expect(!FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("data/apps/escaped").path))
        #expect(try releases(server).isEmpty)
    }

    @Test("hostile app names and versions are refused", arguments: [
        ("../etc", "v1"), ("web", "../../v1"), ("Web App", "v1"), ("web", "v1;rm -rf /"), ("web", ""),
    ])
    func hostileNames(app: String, version: String) throws {
        let server = try ServerProcess()
        let result = try ship(server, app: app, version: version, archive: Data("x".utf8))
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: "), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("data/etc").path))
    }

    @Test("a second deploy of the same app is told who holds the lock; the lock goes with its holder")
    func deployLock() throws {
        let server = try ServerProcess()
        let archive = try Self.archive(of: try server.release("web-v1"))
        // The first deploy waits for its upload, holding the lock.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: BuiltProducts.path("tako-server"))
        first.arguments = [
            "ctl", "ship", "web", "--version", "v1", "--route", "web.test", "--size", String(archive.count),
            "--sha256", Self.sha256(archive), "--holder", "alice@laptop", "--socket", server.socket,
        ]
        let input = Pipe()
        first.standardInput = input
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let holderFile = server.directory.appendingPathComponent("data/apps/web/.deploy_lock/holder.json").path
        try server.waitUntil("the first deploy holds the lock") {
            (try? String(contentsOfFile: holderFile, encoding: .utf8))?.contains("alice@laptop") == true
        }
        let second = try ship(server, version: "v2", archive: archive)
        #expect(second.status == 1)
        #expect(second.stderr.contains("a deploy of 'web' is already running"), "\(second.output)")
        #expect(second.stderr.contains("held by alice@laptop since"), "\(second.output)")

        // The first deploy's client goes away mid-upload: its process ends, the lock with it.
        try input.fileHandleForWriting.write(contentsOf: archive.prefix(100))
        try input.fileHandleForWriting.close()
        first.waitUntilExit()
        #expect(first.terminationStatus == 1)
        let third = try ship(server, version: "v2", archive: archive)
        #expect(third.status == 0, "\(third.output)")
        #expect(try releases(server) == ["v2"])
    }

    @Test("kill -9 of tako-server mid-deploy: the restarted server runs the old release, the new one is gone, and the next deploy works")
    func killedMidDeploy() throws {
        let server = try ServerProcess()
        #expect(try ship(server, version: "v1", archive: try Self.archive(of: try server.release("web-v1"))).status == 0)
        // v2 takes 30 s to start: the kill lands while its instance is starting.
        let file = server.directory.appendingPathComponent("v2.tar.gz")
        let archive = try Self.archive(of: try server.release("web-v2"))
        try archive.write(to: file)
        let shipping = try ChildProcess(
            ["/bin/sh", "-c",
             "echo started; exec \"$0\" ctl ship web --version v2 --route web.test --var START_DELAY=30 --size \"$1\" --sha256 \"$2\" --holder tester@ci --socket \"$3\" < \"$4\"",
             BuiltProducts.path("tako-server"), String(archive.count), Self.sha256(archive), server.socket, file.path],
            log: server.directory.appendingPathComponent("ship.log").path, readyWithin: 30)
        try server.waitUntil("v2 is starting") { try server.instances("web").count == 2 }
        server.kill9()
        #expect(shipping.waitForExit() != 0, "the deploy reports the failure")
        #expect(try releases(server) == ["v1"], "the unfinished release was removed")

        try server.restart()
        #expect(try server.status("web")["version"] as? String == "v1")
        try server.waitUntil("v1 serves again") { try server.get("web.test", "/env/TAKO_BUILD").status == 200 }
        #expect(try server.get("web.test", "/env/TAKO_BUILD").body == Data("v1".utf8))
        // What a deploy that died harder (no chance to clean up) would leave: swept next time.
        let releasesPath = server.directory.appendingPathComponent("data/apps/web/releases").path
        try FileManager.default.createDirectory(atPath: releasesPath + "/.unpack-v3-999", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: releasesPath + "/.incoming-v3-999.tar.gz", contents: Data("partial".utf8))
        let again = try ship(server, version: "v2", archive: archive)
        #expect(again.status == 0, "\(again.output)")
        #expect(try releases(server) == ["v1", "v2"], "leftovers are swept")
        #expect(try server.get("web.test", "/env/TAKO_BUILD").body == Data("v2".utf8))
    }

    @Test("a redeploy of the same version that died part-way gets the earlier release back")
    func sweepRestoresReplaced() throws {
        let releases = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: releases.appendingPathComponent(".replaced-v7-123"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: releases.appendingPathComponent(".replaced-v7-123/old").path, contents: nil)
        try FileManager.default.createDirectory(at: releases.appendingPathComponent("v7"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: releases.appendingPathComponent("v7/untested").path, contents: nil)
        ReleaseReceiver.sweep(releases.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: releases.path) == ["v7"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: releases.appendingPathComponent("v7").path) == ["old"])
    }

    @Test("old releases are pruned to the newest ten, never the current one")
    func prune() throws {
        let releases = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(UUID().uuidString.prefix(8))")
        for index in 0..<13 {
            let path = releases.appendingPathComponent("v\(index)")
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(index - 100))], ofItemAtPath: path.path)
        }
        try FileManager.default.createDirectory(at: releases.appendingPathComponent(".unpack-v9-1"), withIntermediateDirectories: true)
        ReleaseReceiver.prune(releases.path, keep: 10, current: releases.appendingPathComponent("v0").path)
        let left = try FileManager.default.contentsOfDirectory(atPath: releases.path).sorted()
        #expect(left == [".unpack-v9-1", "v0", "v10", "v11", "v12", "v3", "v4", "v5", "v6", "v7", "v8", "v9"])
    }
}
