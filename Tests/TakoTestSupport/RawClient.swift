import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A client that sends exactly the bytes a test gives it: for requests no well-behaved
/// client would send. Every read is bounded by a receive timeout (20 s by default: only a
/// failing test waits for it, and the whole suite at once can starve two cores for seconds).
public final class RawClient {
    private let fd: Int32

    /// A TCP connection to `127.0.0.1:port`.
    public convenience init(port: Int, readTimeout: Double = 20) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        try self.init(family: AF_INET, address: &address, readTimeout: readTimeout)
    }

    /// A connection to the Unix socket at `path`.
    public convenience init(unixSocket path: String, readTimeout: Double = 20) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        try self.init(family: AF_UNIX, address: &address, readTimeout: readTimeout)
    }

    private init<Address>(family: Int32, address: inout Address, readTimeout: Double) throws {
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError(message: "socket failed") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        // No close here: a class whose stored properties are all set runs deinit when its
        // initializer throws, and deinit closes fd. Closing it twice could close another
        // test's descriptor that took the number meanwhile.
        guard connected == 0 else { throw TestSupportError(message: "connect failed") }
        var timeout = timeval(tv_sec: Int(readTimeout), tv_usec: Int((readTimeout - Double(Int(readTimeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
    }

    /// Closes the connection now (before the proxy is stopped, so a drain need not wait).
    public func disconnect() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Closes the sending side only: the peer reads end-of-file, and may still answer.
    public func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Sends `text`; returns false when the peer has closed (EPIPE / reset).
    @discardableResult
    public func send(_ text: String) -> Bool {
        send(Data(text.utf8))
    }

    @discardableResult
    public func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// Reads until the peer closes or the read timeout passes; `closed` says which.
    public func readToEnd() -> (data: Data, closed: Bool) {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return (data, true)
            } else if errno == EINTR {
                continue
            } else {
                return (data, errno == ECONNRESET)
            }
        }
    }

    /// Reads until `marker` has arrived (or the connection ends or times out).
    public func read(until marker: String) -> String {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let needle = Data(marker.utf8)
        var searchFrom = 0
        while data.range(of: needle, in: searchFrom..<data.count) == nil {
            // Only the new bytes (and a needle's length before them) can complete a match.
            searchFrom = max(0, data.count - needle.count)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A listener whose connections are accepted by the kernel and never answered: an upstream
/// that hangs.
public final class SilentListener {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestSupportError(message: "cannot listen")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(fd)
    }
}
