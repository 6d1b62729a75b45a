import Foundation
import NIOCore
import NIOPosix
import TakoCore

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
            loop.execute { self.write(response, on: channel) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
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
