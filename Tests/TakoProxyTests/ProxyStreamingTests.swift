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

    /// A connection that uploaded a body and stays open gives back what the upload needed: NIO
    /// keeps up to `maxMessagesPerRead` receive buffers per channel for its lifetime, and with
    /// 16 each such connection held about 1 MiB (16 × 64 KiB) while idle.
    @Test func idleConnectionsAfterUploadsHoldLittle() throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try ProxyProcess(routes: ["example.test=127.0.0.1:\(web.port)"])
        let count = 16
        let clients = try (0..<count).map { _ in try RawClient(port: proxy.port) }
        for client in clients {
            client.send("GET /warm HTTP/1.1\r\nHost: example.test\r\n\r\n")
            #expect(client.read(until: "connection_request").contains("200 OK"))
        }
        let before = try #require(proxy.process.anonymousKiB)

        let size = 4 * 1024 * 1024
        let chunk = Data(repeating: 0x61, count: 64 * 1024)
        for client in clients {
            client.send("PUT /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: \(size)\r\n\r\n")
            for _ in 0..<(size / chunk.count) { client.send(chunk) }
            let answer = client.read(until: "connection_request")
            #expect(answer.contains("\"body_bytes\": \(size)"), "\(answer.prefix(200))")
        }
        let after = try #require(proxy.process.anonymousKiB)
        let perConnection = (after - before) / count
        // About 70 KiB now (one 64 KiB buffer, grown for the upload); 1 MiB with 16 buffers.
        #expect(perConnection < 256, "each idle connection kept \(perConnection) KiB after a 4 MiB upload")
        withExtendedLifetime(clients) {}
    }
}
