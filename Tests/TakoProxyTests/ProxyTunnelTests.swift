import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// HTTP/1.1 upgrades (WebSocket): the proxy relays the handshake, then raw bytes both ways.
@Suite("Proxy: upgrades and tunnels", .serialized)
struct ProxyTunnelTests {
    private let handshake =
        "GET /ws HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    @Test func webSocketUpgradeBecomesATunnelBothWays() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send(handshake)
        let head = client.read(until: "\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
        #expect(head.lowercased().contains("upgrade: websocket"), "\(head)")
        #expect(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "\(head)")
        // Like a WebSocket client: messages of all sizes, each answered before the next.
        let messages = ["first message"] + (1...20).map { "#\($0)#" + String(repeating: "x", count: 16_000) + "#end\($0)#" } + ["last"]
        for message in messages {
            client.send(message)
            let echoed = client.read(until: message.hasSuffix("#") ? String(message.suffix(8)) : message)
            #expect(echoed.hasSuffix(message), "echo of \(message.prefix(20)) missing")
        }
        client.disconnect()
        await proxy.stop()
    }

    @Test func bytesSentWithTheHandshakeAreNotLost() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send(handshake + "early bytes")
        let text = client.read(until: "early bytes")
        client.disconnect()
        await proxy.stop()
        #expect(text.hasPrefix("HTTP/1.1 101"), "\(text)")
        #expect(text.hasSuffix("early bytes"), "\(text)")
    }

    @Test func refusedUpgradeIsRelayedAndTheConnectionCloses() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send(handshake.replacingOccurrences(of: "Upgrade: websocket", with: "Upgrade: h2c"))
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 426"), "\(text)")
        #expect(closed)
    }

    @Test func closingOneSideClosesTheOther() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        do {
            let client = try RawClient(port: proxy.port)
            client.send(handshake)
            _ = client.read(until: "\r\n\r\n")
        }  // the client goes away
        // The upstream's echo loop ends when the proxy closes its side; the upstream can then
        // serve again on a fresh connection.
        let after = try Curl.request(port: proxy.port, host: "example.test", path: "/after")
        await proxy.stop()
        #expect(after.status == 200)
    }
}
