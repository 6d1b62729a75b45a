import NIOCore
import NIOPosix

/// Probes over a fresh loopback connection with a minimal HTTP/1.1 request, reading only the
/// status line. A fresh connection each time proves the app still accepts connections, which
/// a pooled one would not.
public struct HTTPHealthProber: HealthProber {
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func probe(port: Int, path: String, timeout: Duration) async -> Int? {
        let loop = group.next()
        let promise = loop.makePromise(of: Int?.self)
        let reader = StatusLineReader(promise: promise)
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let deadline = loop.scheduleTask(in: .milliseconds(milliseconds)) { reader.give(nil) }
        ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(milliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
            }
            .connect(host: "127.0.0.1", port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    reader.channel = channel
                    let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: tako-health\r\nConnection: close\r\n\r\n"
                    channel.writeAndFlush(channel.allocator.buffer(string: request), promise: nil)
                case .failure:
                    reader.give(nil)
                }
            }
        let status = try? await promise.futureResult.get()
        deadline.cancel()
        return status ?? nil
    }
}

/// Collects bytes until the status line is complete, then answers and closes. Everything
/// runs on the connection's event loop.
private final class StatusLineReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Int?>
    private var done = false
    private var head: [UInt8] = []
    var channel: (any Channel)?

    init(promise: EventLoopPromise<Int?>) {
        self.promise = promise
    }

    func give(_ status: Int?) {
        promise.futureResult.eventLoop.assertInEventLoop()
        guard !done else { return }
        done = true
        promise.succeed(status)
        channel?.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        if done { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        head.append(contentsOf: buffer.readBytes(length: min(buffer.readableBytes, 64 - head.count)) ?? [])
        // "HTTP/1.1 200 OK": the three digits after the first space.
        if let space = head.firstIndex(of: UInt8(ascii: " ")), head.count >= space + 4 {
            let digits = head[(space + 1)..<(space + 4)]
            give(digits.allSatisfy { $0 >= 48 && $0 <= 57 } && head.starts(with: "HTTP/".utf8)
                ? Int(String(decoding: digits, as: UTF8.self)) : nil)
        } else if head.count >= 64 {
            give(nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        give(nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        give(nil)
    }
}
