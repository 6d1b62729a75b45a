import NIOCore
import NIOEmbedded
import TakoProxy

/// A client's bytes after the HTTP/2 preface, in chunks, through Tako's HTTP/2 framing and
/// the stream channels behind it on an embedded channel (what TLS would have decrypted).
/// Whatever the server writes must be well-formed frames: a whole 9-byte header and payload
/// each, no larger than the client's default maximum, beginning with the server's SETTINGS.
enum FuzzHTTP2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func run(_ data: [UInt8]) {
        let channel = EmbeddedChannel()
        do {
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
            try ProxyFuzzing.configureHTTP2(channel)
        } catch {
            FuzzFailure.check(false, "the pipeline cannot be set up: \(error)")
            return
        }
        var written: [UInt8] = []
        func collect() {
            while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
        }
        var pieces = [preface[...]]
        pieces += data.chunked()
        for piece in pieces {
            guard channel.isActive else { break }
            do {
                try channel.writeInbound(ByteBuffer(bytes: piece))
            } catch {
                break
            }
            channel.embeddedEventLoop.run()
            collect()
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        collect()
        _ = try? channel.finish()
        checkFrames(written)
    }

    private static func checkFrames(_ bytes: [UInt8]) {
        FuzzFailure.check(!bytes.isEmpty, "the server wrote nothing, not even its SETTINGS")
        var offset = 0
        var first = true
        while offset < bytes.count {
            FuzzFailure.check(bytes.count - offset >= 9, "a frame header was cut short at \(offset) of \(bytes.count)")
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            FuzzFailure.check(length <= 16_384, "a frame of \(length) bytes, over the client's default maximum")
            if first { FuzzFailure.check(bytes[offset + 3] == 4, "the server's first frame is not SETTINGS") }
            first = false
            offset += 9 + length
            FuzzFailure.check(offset <= bytes.count, "a frame's payload was cut short")
        }
    }
}
