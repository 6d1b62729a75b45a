import Foundation
import TakoTestSupport
import Testing

/// Large bodies stream through with flat memory: measured on a separate `tako-server proxy`
/// process so the test's own memory does not count.
@Suite("Proxy: streaming with bounded memory", .serialized)
struct ProxyStreamingTests {
    static let size = 200 * 1024 * 1024
    /// Uploads stay under the 128 MiB default body limit (a larger one is answered 413).
    static let uploadSize = 120 * 1024 * 1024

    @Test func largeBodiesStreamBothWaysWithBoundedMemory() throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try ProxyProcess(routes: ["example.test=127.0.0.1:\(web.port)"])
        let target = ["--connect-to", "example.test:\(proxy.port):127.0.0.1:\(proxy.port)"]

        let download = try Curl.run(
            target + ["-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://example.test:\(proxy.port)/bytes/\(Self.size)"])
        #expect(String(decoding: download.output, as: UTF8.self) == "200 \(Self.size)", "\(download.errors)")

        // A sparse file: 120 MiB of zeros that costs no disk; `-T` streams it (PUT).
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tako-upload-\(UUID().uuidString)")
        #expect(FileManager.default.createFile(atPath: file.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(Self.uploadSize))
        try handle.close()
        let upload = try Curl.run(target + ["-T", file.path, "http://example.test:\(proxy.port)/upload"])
        let json = try JSONSerialization.jsonObject(with: upload.output) as? [String: Any]
        #expect(json?["body_bytes"] as? Int == Self.uploadSize, "\(upload.errors)")

        let peak = try #require(proxy.process.peakResidentKiB)
        // ThreadSanitizer's shadow memory is most of the process there; the bound is the plain build's.
        #expect(peak < (Sanitizers.thread ? 512 : 64) * 1024, "proxy peak RSS \(peak) KiB after streaming 320 MiB")
    }
}
