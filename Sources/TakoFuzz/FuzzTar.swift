import Foundation
import TakoCore

/// A release archive (uncompressed tar), in chunks, through the parser and the unpacker into
/// a scratch directory: nothing may appear outside the release directory.
enum FuzzTar {
    static let base: String = {
        let path = NSTemporaryDirectory() + "tako-fuzz-tar-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func run(_ data: [UInt8]) {
        // A directory per run: tests replay inputs from several threads at once.
        var template = Array((base + "/run-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { return }
        let scratch = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = scratch + "/release"
        guard mkdir(root, 0o755) == 0 else { return }
        var parser = TarParser()
        var unpacker = ReleaseUnpacker(root: root)
        do {
            for piece in data.chunked() {
                try parser.feed(piece) { event in try unpacker.handle(event) }
            }
            try parser.finish()
            try unpacker.finish()
        } catch {
            unpacker.abandon()
        }
        let beside = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        FuzzFailure.check(beside == ["release"], "the archive wrote beside the release directory: \(beside)")
    }
}
