import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader sees either the old content or the new, never half of it,
/// and so that a secret never exists on disk with looser permissions than asked.
public enum AtomicFile {
    public struct WriteError: UserFacingError {
        public var path: String
        public var reason: String
        public var message: String { "Could not write \(path): \(reason)." }
        public var hint: String? { "Check that the directory exists and is writable, and that the disk is not full." }
    }

    /// Writes `data` to a temporary file beside `url` created with `mode`, syncs it and renames
    /// it over `url`. Creates the parent directory (mode 0700) when missing.
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o644) throws(WriteError) {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw WriteError(path: directory.path, reason: "cannot create the directory")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw WriteError(path: url.path, reason: String(cString: strerror(errno)))
        }
        var failure: String?
        // fchmod: the umask may have narrowed `mode`; the caller's mode is what was asked for.
        if fchmod(fd, mode) != 0 { failure = String(cString: strerror(errno)) }
        if failure == nil {
            failure = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> String? in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return String(cString: strerror(errno))
                    }
                    offset += written
                }
                return nil
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw WriteError(path: url.path, reason: failure)
        }
    }

    public static func write(_ text: String, to url: URL, mode: mode_t = 0o644) throws(WriteError) {
        try write(Data(text.utf8), to: url, mode: mode)
    }
}
