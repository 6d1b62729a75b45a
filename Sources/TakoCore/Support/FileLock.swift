import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on a file, held by this process until `release` or until it ends,
/// however it ends: the kernel lets go of a dead holder's lock, so a lock never outlives
/// its owner and nobody has to delete one by hand. (The deploy lock on a host and the dev
/// project lock on a laptop are both this.)
public final class FileLock: @unchecked Sendable {
    private var descriptor: Int32
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock at `path` (creating the file and its directory), or returns nil when
    /// another process holds it.
    public static func tryAcquire(_ path: String) throws(UserError) -> FileLock? {
        let directory = (path as NSString).deletingLastPathComponent
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else {
            throw UserError("cannot create \(directory)", hint: "check that it is writable")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw UserError("cannot open \(path): \(String(cString: strerror(errno)))", hint: "check that it is writable")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return FileLock(descriptor: descriptor, path: path)
    }

    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit {
        release()
    }
}
