import Foundation
import Testing

@testable import TakoCore

@Suite struct FrameDecoderTests {
    @Test func oneChunkWithSeveralLinesGivesSeveralFrames() throws {
        var decoder = FrameDecoder()
        let frames = try decoder.append(Array("{\"a\":1}\n{\"b\":2}\n{\"c\"".utf8))
        #expect(frames.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}"])
        #expect(decoder.pendingByteCount == 4)
        #expect(try decoder.append(Array(":3}\n".utf8)) == [Data("{\"c\":3}".utf8)])
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func framesSplitAcrossSingleByteChunksAreReassembled() throws {
        var decoder = FrameDecoder()
        var frames: [Data] = []
        for byte in Array("hello\nworld\n".utf8) {
            frames += try decoder.append([byte])
        }
        #expect(frames == [Data("hello".utf8), Data("world".utf8)])
    }

    @Test func emptyLinesAreSkipped() throws {
        var decoder = FrameDecoder()
        #expect(try decoder.append(Array("\n\na\n\n".utf8)) == [Data("a".utf8)])
    }

    @Test func nonContiguousSequencesAreAccepted() throws {
        var decoder = FrameDecoder()
        let bytes = Array("x\ny\n".utf8).lazy.map { $0 }
        #expect(try decoder.append(bytes) == [Data("x".utf8), Data("y".utf8)])
    }

    @Test func lineOfExactlyTheLimitIsAccepted() throws {
        var decoder = FrameDecoder(maxFrameBytes: 8)
        #expect(try decoder.append(Array("12345678\n".utf8)) == [Data("12345678".utf8)])
        _ = try decoder.append(Array("1234".utf8))
        #expect(try decoder.append(Array("5678\n".utf8)) == [Data("12345678".utf8)])
    }

    @Test func lineOverTheLimitWithoutNewlineIsRejectedAtAppend() throws {
        var decoder = FrameDecoder(maxFrameBytes: 8)
        _ = try decoder.append(Array("12345".utf8))
        #expect(throws: ManagementProtocolError.frameTooLarge) { try decoder.append(Array("6789".utf8)) }
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func lineOverTheLimitInsideOneChunkIsRejected() {
        var decoder = FrameDecoder(maxFrameBytes: 8)
        #expect(throws: ManagementProtocolError.frameTooLarge) { try decoder.append(Array("ok\n123456789\n".utf8)) }
    }

    @Test func senderWithoutNewlinesCannotGrowTheBufferPastTheDefaultLimit() throws {
        var decoder = FrameDecoder()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var appended = 0
        let error = try #require(throws: ManagementProtocolError.self) {
            while true {
                _ = try decoder.append(chunk)
                appended += chunk.count
                #expect(decoder.pendingByteCount <= ManagementProtocol.maxFrameBytes)
            }
        }
        #expect(error == .frameTooLarge)
        #expect(appended == ManagementProtocol.maxFrameBytes)
    }

    @Test func finishReturnsATrailingLineWithoutNewline() throws {
        var decoder = FrameDecoder()
        _ = try decoder.append(Array("done\npartial".utf8))
        #expect(decoder.finish() == Data("partial".utf8))
        #expect(decoder.finish() == nil)
    }

    // MARK: ManagementFrame

    @Test func encodedFrameIsOneLineEvenWhenStringsHoldNewlines() throws {
        let frame = try ManagementFrame.encode(ManagementRequest(.updateSecrets(app: "web", secrets: ["PEM": "a\nb\r\nc"])))
        #expect(frame.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        var decoder = FrameDecoder()
        let frames = try decoder.append(frame)
        #expect(frames.count == 1)
        #expect(try ManagementRequest.decode(frame: frames[0]).command == .updateSecrets(app: "web", secrets: ["PEM": "a\nb\r\nc"]))
    }

    @Test func valueLargerThanAFrameCannotBeEncoded() {
        let big = String(repeating: "x", count: ManagementProtocol.maxFrameBytes)
        #expect(throws: ManagementProtocolError.frameTooLarge) {
            try ManagementFrame.encode(ManagementRequest(.updateSecrets(app: "web", secrets: ["BIG": big])))
        }
    }
}
