#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few socket spellings that differ between Linux and macOS, in one place: the CLI and
/// the dev daemon build on both.
public enum PortableSocket {
    #if canImport(Glibc)
    public static let streamType = Int32(SOCK_STREAM.rawValue)
    /// A peer that went away fails the send with EPIPE instead of raising SIGPIPE.
    public static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    public static let streamType = SOCK_STREAM
    public static let sendFlags: Int32 = 0  // SO_NOSIGPIPE is set on the socket instead
    #endif

    /// A stream socket that is closed on exec and never raises SIGPIPE; -1 on failure.
    public static func stream(domain: Int32) -> Int32 {
        #if canImport(Glibc)
        return socket(domain, streamType | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(domain, streamType, 0)
        guard fd >= 0 else { return fd }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        return fd
        #endif
    }

    /// The address of the Unix socket at `path`; nil when the path does not fit.
    public static func unixAddress(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
            raw[path.utf8.count] = 0
        }
        return address
    }
}
