import Foundation
import NIOCore
import NIOPosix
import TakoCore
import TakoSupervisor

/// What answers on a `FrameSocketServer`: one request frame in, one answer frame out, and
/// for a request that follows a log (`logs --follow`) the log whose new lines come after.
public protocol FrameResponder: Sendable {
    func respond(to frame: Data) async -> Data
    func logToFollow(_ frame: Data) async -> AppLog?
}

extension FrameResponder {
    public func logToFollow(_ frame: Data) async -> AppLog? { nil }
}

/// One streamed line of `logs --follow`.
struct LogLine: Codable, Sendable {
    var line: String
}

/// A control socket speaking newline-delimited JSON on a Unix socket, one request and one
/// response per connection (DESIGN §8): tako-server's management socket and the dev daemon's
/// control socket. Frames are capped at 1 MiB while they arrive; a client that sends nothing
/// for 10 s is disconnected.
public final class FrameSocketServer: Sendable {
    static let requestTimeout: TimeAmount = .seconds(10)

    private let channel: any Channel
    private let path: String

    private init(channel: any Channel, path: String) {
        self.channel = channel
        self.path = path
    }

    /// Listens on `path` with file mode `mode`. `owner` names the program in the error for a
    /// path another live process already answers on.
    public static func start(
        path: String, mode: mode_t, owner: String, hint: String, responder: any FrameResponder, group: any EventLoopGroup
    ) async throws -> FrameSocketServer {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A socket file left by a crashed server would make bind fail; one that a live server
        // still answers on must not be taken over.
        if FileManager.default.fileExists(atPath: path) {
            if FrameSocketClient.isAnswering(path: path) {
                throw UserError("another \(owner) is already listening on \(path)", hint: hint)
            }
            unlink(path)
        }
        // Bound here rather than by NIO, which removes the path when the channel closes: after
        // a graceful restart the path belongs to the successor (see `close(removingPath:)`).
        let descriptor = try bind(path, mode: mode)
        do {
            let channel = try await ServerBootstrap(group: group)
                // A client may close its sending side after the request (`nc -N`,
                // shutdown(SHUT_WR)); the answer must still reach it.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(FrameConnection(responder: responder, owner: owner))
                    }
                }
                .withBoundSocket(descriptor)
                .get()
            return FrameSocketServer(channel: channel, path: path)
        } catch {
            Foundation.close(descriptor)
            unlink(path)
            throw error
        }
    }

    /// A listening Unix socket at `path`, never reachable with a wider mode than `mode`.
    private static func bind(_ path: String, mode: mode_t) throws -> Int32 {
        guard var address = PortableSocket.unixAddress(path) else {
            throw UserError("the socket path \(path) is too long", hint: "use a shorter path")
        }
        let descriptor = PortableSocket.stream(domain: AF_UNIX)
        guard descriptor >= 0 else { throw UserError("cannot create a socket: \(String(cString: strerror(errno)))") }
        // The socket file is created with the umask's mode: narrow it around bind.
        let previousMask = umask(0o777 & ~mode)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard bound == 0, listen(descriptor, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            Foundation.close(descriptor)
            throw UserError("cannot listen on \(path): \(reason)", hint: "check the directory's permissions")
        }
        chmod(path, mode)
        return descriptor
    }

    /// Stops listening (connections being answered finish) and removes the socket's path,
    /// unless `removingPath` is false: the path was handed to another process.
    public func close(removingPath: Bool = true) async {
        try? await channel.close()
        if removingPath { unlink(path) }
    }
}

/// One connection: reads one frame, answers it, closes.
private final class FrameConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: any FrameResponder
    /// The program's name, for the refusal of a peer.
    private let owner: String
    private var decoder = FrameDecoder()
    private var answered = false
    private var timeout: Scheduled<Void>?
    /// While following an app's log: the log and the subscription.
    private var following: (log: AppLog, token: Int)?
    private var unsentBytes = 0

    init(responder: any FrameResponder, owner: String) {
        self.responder = responder
        self.owner = owner
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        // The file mode is the first fence; the peer's credentials are the second, so a socket
        // whose mode was widened (or a directory that lets others in) still admits only this
        // process's own user and root.
        if let uid = PeerCredentials.uid(of: channel), uid != 0, uid != geteuid() {
            let me = PeerCredentials.userName(geteuid())
            FileHandle.standardError.write(Data("\(owner): refused a command from uid \(uid) on its socket\n".utf8))
            answered = true
            let who = geteuid() == 0 ? "root" : "its own user (\(me)) and root"
            reply(
                ManagementFrame.error(
                    "permission denied: \(owner) takes commands only from \(who)", hint: "run it as \(me) (sudo -u \(me) ...)"),
                on: channel)
            return context.fireChannelActive()
        }
        timeout = context.eventLoop.scheduleTask(in: FrameSocketServer.requestTimeout) { [weak self] in
            guard let self, !self.answered else { return }
            self.reply(ManagementFrame.error("no complete request within 10 s"), on: channel)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let buffer = unwrapInboundIn(data)
        let frames: [Data]
        do {
            frames = try decoder.append(buffer.readableBytesView)
        } catch {
            return reply(ManagementFrame.error(error.message, hint: error.hint), on: context.channel)
        }
        guard let frame = frames.first else { return }
        answer(frame, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, case .inputClosed = event else {
            return context.fireUserInboundEventTriggered(event)
        }
        guard !answered else { return }
        // The client finished sending: a last line without its newline still counts.
        if let frame = decoder.finish(), !frame.isEmpty {
            answer(frame, context: context)
        } else {
            answered = true
            timeout?.cancel()
            context.close(promise: nil)
        }
    }

    private func answer(_ frame: Data, context: ChannelHandlerContext) {
        answered = true
        timeout?.cancel()
        let channel = context.channel
        let responder = self.responder
        let loop = context.eventLoop
        Task {
            let response = await responder.respond(to: frame)
            let log = await responder.logToFollow(frame)
            loop.execute {
                // Keys are sorted, so an ok answer ends with its status.
                let ok = Data("\"status\":\"ok\"}\n".utf8)
                guard let log, response.suffix(ok.count) == ok else {
                    return self.write(response, on: channel)
                }
                self.startFollowing(log, after: response, on: channel)
            }
        }
    }

    /// `logs --follow`: the last lines first, then one `{"line": ...}` frame per new line until
    /// the client closes the connection.
    private func startFollowing(_ log: AppLog, after first: Data, on channel: any Channel) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: first), promise: nil)
        let token = log.follow { [self] line in
            guard let frame = try? ManagementFrame.encode(LogLine(line: line)) else { return }
            channel.eventLoop.execute { self.send(frame, on: channel) }
        }
        following = (log, token)
    }

    /// Lines come from the apps' reader threads and must never wait for a slow client: one
    /// that lets more than 4 MiB pile up unsent is disconnected instead.
    private func send(_ frame: Data, on channel: any Channel) {
        guard channel.isActive else { return }
        unsentBytes += frame.count
        if unsentBytes > 4 << 20 {
            channel.close(promise: nil)
            return
        }
        let count = frame.count
        channel.writeAndFlush(channel.allocator.buffer(bytes: frame)).whenComplete { [self] _ in
            unsentBytes -= count
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let following { following.log.unfollow(following.token) }
        following = nil
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func reply(_ frame: Data, on channel: any Channel) {
        answered = true
        timeout?.cancel()
        write(frame, on: channel)
    }

    private func write(_ frame: Data, on channel: any Channel) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: frame)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
