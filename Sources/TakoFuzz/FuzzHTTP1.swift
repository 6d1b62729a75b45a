import NIOCore
import NIOEmbedded
import TakoProxy

/// A client connection's bytes, in chunks, through the proxy's real HTTP/1.1 pipeline on an
/// embedded channel. Every answer must be an HTTP/1.1 response (nothing else is ever written
/// to a client before a tunnel exists, and no tunnel can: no upstream is reachable).
enum FuzzHTTP1 {
    static func run(_ data: [UInt8]) {
        let channel = EmbeddedChannel()
        do {
            try ProxyFuzzing.configure(channel)
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
        } catch {
            FuzzFailure.check(false, "the pipeline cannot be set up: \(error)")
            return
        }
        var written: [UInt8] = []
        for piece in data.chunked() {
            guard channel.isActive else { break }
            do {
                try channel.writeInbound(ByteBuffer(bytes: piece))
            } catch {
                break
            }
            while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
                written += buffer.readableBytesView
            }
        }
        // Timers the connection set (head and idle timeouts) run out.
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            written += buffer.readableBytesView
        }
        _ = try? channel.finish()
        if !written.isEmpty {
            FuzzFailure.check(written.starts(with: Array("HTTP/1.1 ".utf8)) || written.starts(with: Array("HTTP/1.0 ".utf8)), "the proxy wrote something that is not a response: \(String(decoding: written.prefix(80), as: UTF8.self))")
        }
    }
}
