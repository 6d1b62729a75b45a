import Foundation
import TakoCore

/// A free TCP port on the loopback interface for a new instance: the kernel picks one for a
/// socket bound to port 0, which is then closed and handed to the app.
enum FreePort {
    static func pick() throws -> Int {
        let fd = PortableSocket.stream(domain: AF_INET)
        guard fd >= 0 else { throw SupervisorError("cannot pick a port for the instance", errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SupervisorError("cannot pick a port for the instance", errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw SupervisorError("cannot pick a port for the instance", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
