import Foundation
import TakoCore

/// Whether a TCP port can be bound, checked by binding it for a moment.
enum PortCheck {
    static func requireFree(host: String, port: Int) throws(UserError) {
        let fd = PortableSocket.stream(domain: AF_INET)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var yes: Int32 = 1
        // Connections of an earlier daemon in TIME_WAIT do not make the port busy.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result != 0 else { return }
        let code = errno
        if code == EADDRINUSE {
            throw UserError(
                "\(host):\(port) is already in use, so tako-dev-server cannot serve HTTPS there",
                hint: "stop the program listening on it (ss -ltnp 'sport = :\(port)' shows which)")
        }
        throw UserError("cannot bind \(host):\(port): \(String(cString: strerror(code)))")
    }
}
