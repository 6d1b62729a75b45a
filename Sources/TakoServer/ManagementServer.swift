import Foundation
import NIOCore
import NIOPosix
import TakoCore
import TakoSupervisor

/// One streamed line of `logs --follow`.
struct LogLine: Codable, Sendable {
    var line: String
}

extension Optional {
    fileprivate func asyncFlatMap<T>(_ transform: (Wrapped) async -> T?) async -> T? {
        guard let value = self else { return nil }
        return await transform(value)
    }
}

/// The management socket: newline-delimited JSON on a Unix socket (mode 0660), one request
/// and one response per connection (DESIGN §8). Frames are capped at 1 MiB while they
/// arrive; a client that sends nothing for 10 s is disconnected.
final class ManagementServer: Sendable {
    static let requestTimeout: TimeAmount = .seconds(10)

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func start(path: String, runtime: ServerRuntime, group: any EventLoopGroup) async throws -> ManagementServer {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A socket file left by a crashed server would make bind fail; one that a live server
        // still answers on must not be taken over.
        if FileManager.default.fileExists(atPath: path) {
            if ManagementClient.isAnswering(path: path) {
                throw UserError("another tako-server is already listening on \(path)", hint: "stop it first, or set [server] socket to another path")
            }
            unlink(path)
        }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            // A client may close its sending side after the request (`nc -N`, shutdown(SHUT_WR));
            // the answer must still reach it.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ManagementConnection(runtime: runtime))
                }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        chmod(path, 0o660)
        return ManagementServer(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}

/// One management connection: reads one frame, answers it, closes.
private final class ManagementConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let runtime: ServerRuntime
    private var decoder = FrameDecoder()
    private var answered = false
    private var timeout: Scheduled<Void>?
    /// While following an app's log: the log and the subscription.
    private var following: (log: AppLog, token: Int)?
    private var unsentBytes = 0

    init(runtime: ServerRuntime) {
        self.runtime = runtime
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: ManagementServer.requestTimeout) { [weak self] in
            guard let self, !self.answered else { return }
            self.reply(ServerRuntime.errorFrame("no complete request within 10 s"), on: channel)
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
            return reply(ServerRuntime.errorFrame(error.message, hint: error.hint), on: context.channel)
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
        let runtime = self.runtime
        let loop = context.eventLoop
        Task {
            let response = await runtime.respond(to: frame)
            let request = try? ManagementRequest.decode(frame: frame)
            let log = await request.asyncFlatMap { await runtime.logToFollow($0) }
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
