import Foundation

/// The client end of a JSON control socket (tako-server's management socket, the dev
/// daemon's control socket): plain blocking POSIX calls, one request frame, then the answer.
public struct FrameSocketClient: Sendable {
    /// Names the daemon in errors ("tako-server is not running ...").
    public var program: String
    /// What to do when nothing answers.
    public var startHint: String
    public var path: String

    public init(program: String, startHint: String, path: String) {
        self.program = program
        self.startHint = startHint
        self.path = path
    }

    /// Sends `request` and returns the response frame. `timeout` bounds the whole exchange
    /// (deploys take as long as the app's instances take to start).
    public func send(_ request: some Encodable, timeout: Duration = .seconds(600)) throws(UserError) -> Data {
        var answer: Data?
        try exchange(request, timeout: timeout) { frame throws(UserError) in
            answer = frame
            return false
        }
        guard let answer else {
            throw UserError("\(program) closed the connection without an answer", hint: "check its log")
        }
        return answer
    }

    /// Sends `request` and passes every frame of the answer to `frame` until the server closes
    /// the connection (`logs` with `follow`). Errors thrown by `frame` end the stream.
    public func stream(_ request: some Encodable, _ frame: (Data) throws(UserError) -> Void) throws(UserError) {
        try exchange(request, timeout: nil) { received throws(UserError) in
            try frame(received)
            return true
        }
    }

    /// Sends one request, then hands each frame of the answer to `frame` for as long as it
    /// returns true and the server keeps the connection open. A last frame without its
    /// newline counts.
    private func exchange(
        _ request: some Encodable, timeout: Duration?, _ frame: (Data) throws(UserError) -> Bool
    ) throws(UserError) {
        let encoded: Data
        do { encoded = try ManagementFrame.encode(request) } catch { throw UserError(error.message, hint: error.hint) }
        let fd = try connect()
        defer { close(fd) }
        if let timeout {
            var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        }
        var sent = 0
        // A server that refuses a request (a peer it does not serve) answers and closes
        // without reading it: sending then fails, but its answer is waiting to be read.
        var sendBroke = false
        while sent < encoded.count {
            let count = encoded.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, $0.count - sent, PortableSocket.sendFlags) }
            guard count > 0 else {
                if count < 0 && errno == EINTR { continue }
                sendBroke = true
                break
            }
            sent += count
        }
        var answered = false
        var decoder = FrameDecoder(maxFrameBytes: ManagementProtocol.maxFrameBytes + 1)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), let timeout {
                throw UserError("\(program) did not answer within \(timeout.components.seconds) s", hint: "check its log")
            }
            guard count > 0 else { break }
            let frames: [Data]
            do { frames = try decoder.append(chunk[0..<count]) } catch { throw UserError(error.message, hint: error.hint) }
            for each in frames {
                answered = true
                if try !frame(each) { return }
            }
        }
        if let last = decoder.finish(), !last.isEmpty {
            answered = true
            _ = try frame(last)
        }
        if sendBroke && !answered {
            throw UserError("the connection to \(program) broke while sending", hint: "check its log")
        }
    }

    /// Whether a server answers on `path` (to refuse starting a second one on it).
    public static func isAnswering(path: String) -> Bool {
        guard let fd = try? FrameSocketClient(program: "", startHint: "", path: path).connect() else { return false }
        close(fd)
        return true
    }

    private func connect() throws(UserError) -> Int32 {
        guard var address = PortableSocket.unixAddress(path) else {
            throw UserError("the socket path \(path) is too long", hint: "use a path shorter than \(MemoryLayout.size(ofValue: sockaddr_un().sun_path)) bytes")
        }
        let fd = PortableSocket.stream(domain: AF_UNIX)
        guard fd >= 0 else { throw UserError("cannot create a socket: \(String(cString: strerror(errno)))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            switch code {
            case ENOENT, ECONNREFUSED:
                throw UserError("\(program) is not running (no answer on \(path))", hint: startHint)
            case EACCES:
                throw UserError("permission denied on \(path)", hint: "run as the user that runs the server (sudo -u tako ...), or as root")
            default:
                throw UserError("cannot connect to \(path): \(String(cString: strerror(code)))")
            }
        }
        return fd
    }
}
