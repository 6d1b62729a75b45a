import Foundation
import TakoCore

/// Management frames in chunks; each complete frame is decoded as a request, and a request
/// that decodes must survive encoding and decoding again unchanged.
enum FuzzFrames {
    static func run(_ data: [UInt8]) {
        var decoder = FrameDecoder(maxFrameBytes: 1 << 16)
        var frames: [Data] = []
        for piece in data.chunked() {
            guard let complete = try? decoder.append(piece) else { return }
            frames += complete
        }
        if let last = decoder.finish() { frames.append(last) }
        for frame in frames {
            _ = ManagementRequest.peekProtocolVersion(frame)
            guard let request = try? ManagementRequest.decode(frame: frame) else { continue }
            guard let encoded = try? ManagementFrame.encode(request) else {
                FuzzFailure.check(false, "a decoded request cannot be encoded: \(request)")
                return
            }
            let again = try? ManagementRequest.decode(frame: encoded.dropLast())
            FuzzFailure.check(again == request, "round trip changed \(request) into \(String(describing: again))")
        }
    }
}
