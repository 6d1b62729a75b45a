import NIOCore
import TakoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A listening TCP socket made here rather than by NIO, so the process can hand a copy of it
/// to the `tako-server` that replaces it (upgrades and graceful restarts): the same socket,
/// so its accept queue carries over and no connection is refused while one process leaves
/// and the other takes over.
///
/// Deliberately no `SO_REUSEPORT` (DESIGN §6 named it): every socket bound with it has its
/// own accept queue, and connections waiting in the old process's queue are reset when it
/// closes; a second server started by mistake would silently share the port; and binding
/// port 0 with it can hand out a port another such socket already uses.
public enum ListenerSocket {
    /// A new non-blocking socket bound to `host:port` and listening (`SO_REUSEADDR`, so
    /// connections of a previous server in TIME_WAIT do not block the port).
    /// The accept queue's length (the kernel caps it at net.core.somaxconn).
    public static let backlog: Int32 = 4096

    public static func open(host: String, port: Int, backlog: Int32 = ListenerSocket.backlog) throws -> Int32 {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = PortableSocket.stream(domain: family)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind \(host):\(port)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// A copy of `fd` that stays in this process (close-on-exec) until it is handed over.
    static func keepCopy(_ fd: Int32) -> Int32 {
        let copy = dup(fd)
        if copy >= 0 { _ = fcntl(copy, F_SETFD, FD_CLOEXEC) }
        return copy
    }
}
