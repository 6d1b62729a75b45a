import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who is at the other end of a Unix socket connection, as the kernel says (SO_PEERCRED on
/// Linux, LOCAL_PEERCRED on macOS), not as the client claims.
enum PeerCredentials {
    /// The peer's effective uid; nil when the channel cannot say (not a Unix socket). Called
    /// on the channel's event loop, where the option is read at once.
    static func uid(of channel: any Channel) -> uid_t? {
        guard let provider = channel as? any SocketOptionProvider, channel.eventLoop.inEventLoop else { return nil }
        let result = Box()
        #if os(Linux)
        let future: EventLoopFuture<LinuxPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        // Already complete (read on this loop), so the callback runs here and now.
        future.whenSuccess { result.uid = $0.uid }
        #elseif canImport(Darwin)
        // Untested here (no macOS CI): the dev daemon's socket on a Mac.
        let future: EventLoopFuture<xucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_LOCAL), name: SocketOptionName(LOCAL_PEERCRED))
        future.whenSuccess { result.uid = $0.cr_uid }
        #endif
        return result.uid
    }

    /// `struct ucred` (Glibc hides it behind _GNU_SOURCE): what SO_PEERCRED fills in.
    struct LinuxPeerCredentials: Sendable {
        var pid: Int32
        var uid: UInt32
        var gid: UInt32
    }

    private final class Box: @unchecked Sendable {
        var uid: uid_t?
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
