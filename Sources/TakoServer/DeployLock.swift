import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// One deploy per app per host: an exclusive `flock` on `{app}/.deploy_lock/lock`, held by
/// the `ctl ship` process for the whole deploy, with who holds it in `holder.json` beside it.
///
/// The kernel releases a `flock` when its process ends however it ends, so a deploy whose
/// client disappeared (its SSH session closed, the process killed) leaves a lock the next
/// deploy simply takes over; the stale `holder.json` is overwritten. Nobody ever has to
/// delete a lock by hand.
struct DeployLock {
    struct Holder: Codable {
        var holder: String
        var since: Date
        var pid: Int32
    }

    private let descriptor: Int32
    private let holderFile: String

    static func acquire(appDirectory: String, app: String, holder: String) throws(UserError) -> DeployLock {
        let directory = appDirectory + "/.deploy_lock"
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else {
            throw UserError("cannot create \(directory)", hint: "check that the tako user owns the data directory")
        }
        let descriptor = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw UserError("cannot open \(directory)/lock: \(String(cString: strerror(errno)))", hint: "check that the tako user owns the data directory")
        }
        let holderFile = directory + "/holder.json"
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            let current = (try? Data(contentsOf: URL(fileURLWithPath: holderFile))).flatMap {
                try? Self.decoder.decode(Holder.self, from: $0)
            }
            let who = current.map { "\($0.holder) since \($0.since.formatted(.iso8601))" } ?? "another deploy"
            throw UserError(
                "a deploy of '\(app)' is already running on this host (held by \(who))",
                hint: "wait for it to finish; the lock is released as soon as that deploy ends or its client disconnects")
        }
        let record = Holder(holder: holder, since: Date(), pid: getpid())
        if let data = try? Self.encoder.encode(record) {
            try? AtomicFile.write(data, to: URL(fileURLWithPath: holderFile), mode: 0o644)
        }
        return DeployLock(descriptor: descriptor, holderFile: holderFile)
    }

    func release() {
        unlink(holderFile)
        close(descriptor)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
