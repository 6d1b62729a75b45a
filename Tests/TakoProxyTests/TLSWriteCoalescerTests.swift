import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import TakoProxy

@Suite("TLSWriteCoalescer")
struct TLSWriteCoalescerTests {
    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(TLSWriteCoalescer())
        return channel
    }

    func outbound(_ channel: EmbeddedChannel) throws -> [String] {
        var written: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written.append(String(buffer: buffer)) }
        return written
    }

    @Test("small writes of one flush leave as one buffer, in order, and every promise completes")
    func joinsSmallWrites() throws {
        let channel = try channel()
        let first = channel.eventLoop.makePromise(of: Void.self)
        let second = channel.eventLoop.makePromise(of: Void.self)
        channel.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), promise: first)
        channel.write(ByteBuffer(string: "hello"), promise: nil)
        channel.write(ByteBuffer(string: ", world"), promise: second)
        #expect(try outbound(channel).isEmpty, "nothing leaves before the flush")
        channel.flush()
        #expect(try outbound(channel) == ["HTTP/1.1 200 OK\r\n\r\nhello, world"])
        let completed = NIOLockedValueBox(0)
        first.futureResult.whenSuccess { completed.withLockedValue { $0 += 1 } }
        second.futureResult.whenSuccess { completed.withLockedValue { $0 += 1 } }
        channel.embeddedEventLoop.run()
        #expect(completed.withLockedValue { $0 } == 2)
        _ = try channel.finish()
    }

    @Test("a large buffer passes through uncopied, after what was gathered before it")
    func largeWritesPassThrough() throws {
        let channel = try channel()
        let large = String(repeating: "x", count: TLSWriteCoalescer.copyLimit + 1)
        channel.write(ByteBuffer(string: "head"), promise: nil)
        channel.write(ByteBuffer(string: large), promise: nil)
        channel.write(ByteBuffer(string: "tail"), promise: nil)
        channel.flush()
        #expect(try outbound(channel) == ["head", large, "tail"])
        _ = try channel.finish()
    }

    @Test("gathering stops at a TLS record's size")
    func recordSized() throws {
        let channel = try channel()
        let piece = String(repeating: "y", count: TLSWriteCoalescer.copyLimit)
        let count = TLSWriteCoalescer.recordSize / piece.utf8.count + 1
        for _ in 0..<count { channel.write(ByteBuffer(string: piece), promise: nil) }
        channel.flush()
        let written = try outbound(channel)
        #expect(written.count == 2)
        #expect(written.allSatisfy { $0.utf8.count <= TLSWriteCoalescer.recordSize })
        #expect(written.joined() == String(repeating: piece, count: count))
        _ = try channel.finish()
    }
}
