import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// Hostile HTTP/2 clients against Tako's own framing (`HTTP2ServerConnection`): each attack
/// meets the RFC 9113 error or the limit meant for it, and the server goes on serving.
/// The clients are raw frames over TLS (Support/h2attack.py).
@Suite("HTTP/2 under hostile clients")
struct HTTP2HardeningTests {
    let ca: TestCA
    let store: CertificateStore

    init() throws {
        ca = try TestCA()
        store = try .issued(by: ca, for: ["a.test"])
    }

    func proxy(_ web: UpstreamProcess, configuration: ProxyConfiguration = ProxyConfiguration(eventLoops: 1)) async throws -> (RunningProxy, Int) {
        try await RunningProxy.https(serving: web, hosts: ["a.test"], tls: store, configuration: configuration)
    }

    func attack(_ name: String, port: Int, maxStreams: Int = 128) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/h2attack.py")
        let result = try Program.run("/usr/bin/env", ["python3", script.path, name, "a.test", "\(port)", ca.certificatePath, "\(maxStreams)"])
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] else {
            throw TestSupportError(message: "h2attack \(name) failed: \(result.output)")
        }
        return json
    }

    /// Each attack and the GOAWAY code it must end with (RFC 9113 §7).
    static let connectionErrors: [(String, Int)] = [
        ("rapid-reset", 0xB),  // ENHANCE_YOUR_CALM
        ("provoked-reset", 0xB),
        ("continuation-flood", 0xB),
        ("empty-continuation", 0xB),
        ("ping-flood", 0xB),
        ("settings-flood", 0xB),
        ("closed-stream-data", 0xB),
        ("window-overflow", 0x3),  // FLOW_CONTROL_ERROR
        ("data-on-idle-stream", 0x1),  // PROTOCOL_ERROR
        ("even-stream", 0x1),
        ("interleaved-headers", 0x1),
        ("push-promise", 0x1),
        ("bad-hpack", 0x9),  // COMPRESSION_ERROR
        ("oversized-frame", 0x6),  // FRAME_SIZE_ERROR
    ]

    @Test("each attack ends its connection with the right GOAWAY, and the server goes on serving", arguments: connectionErrors)
    func connectionError(_ name: String, _ code: Int) async throws {
        let web = try UpstreamProcess(name: "web")
        let (proxy, port) = try await proxy(web)
        let result = try attack(name, port: port)
        #expect(result["goaway"] as? Int == code, "\(name): \(result)")
        #expect(result["closed"] as? Bool == true || result["send_failed"] as? Bool == true, "\(name): the connection stayed open: \(result)")
        if name == "rapid-reset" {
            // The connection ended within its reset budget: most of the 1,000 streams never
            // reached the app.
            let seen = try Curl.request(port: web.port, host: "example.test", path: "/__seen")
            let paths = (try JSONSerialization.jsonObject(with: seen.body) as? [String]) ?? []
            #expect(paths.filter { $0.contains("/sleep/") }.count <= HTTP2ServerConnection.resetBudget + 1, "\(paths.count) requests reached the app")
        }
        if name == "closed-stream-data" { #expect((result["resets"] as? [String: Int])?["1"] == 0x5, "\(result)") }
        let control = try attack("control", port: port)
        #expect((control["statuses"] as? [String: Any])?["1"] as? Int == 200, "after \(name): \(control)")
        await proxy.stop()
    }

    @Test("a stream over the concurrency limit is refused (REFUSED_STREAM), the others are answered")
    func tooManyStreams() async throws {
        let web = try UpstreamProcess(name: "web")
        var configuration = ProxyConfiguration(eventLoops: 1)
        configuration.maxConcurrentStreams = 4
        let (proxy, port) = try await proxy(web, configuration: configuration)
        let result = try attack("too-many-streams", port: port, maxStreams: 4)
        let statuses = result["statuses"] as? [String: Any] ?? [:]
        #expect(["1", "3", "5", "7"].allSatisfy { statuses[$0] as? Int == 200 }, "\(result)")
        #expect((result["resets"] as? [String: Int])?["9"] == 0x7, "\(result)")
        #expect(result["goaway"] is NSNull, "\(result)")
        await proxy.stop()
    }
}
