import Foundation
import TakoCore

#if canImport(Glibc)
import Glibc
#endif

/// One deploy per app per host: a `FileLock` on `{app}/.deploy_lock/lock`, held by the
/// `ctl ship` process for the whole deploy, with who holds it in `holder.json` beside it.
///
/// A deploy whose client disappeared (its SSH session closed, the process killed) ends, and
/// its lock with it; the next deploy takes over and overwrites the stale `holder.json`.
struct DeployLock {
    struct Holder: Codable {
        var holder: String
        var since: Date
        var pid: Int32
    }

    private let lock: FileLock
    private let holderFile: String

    static func acquire(appDirectory: String, app: String, holder: String) throws(UserError) -> DeployLock {
        let directory = appDirectory + "/.deploy_lock"
        let holderFile = directory + "/holder.json"
        guard let lock = try FileLock.tryAcquire(directory + "/lock") else {
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
        return DeployLock(lock: lock, holderFile: holderFile)
    }

    func release() {
        unlink(holderFile)
        lock.release()
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
