import Foundation
import NIOCore
import TakoTestSupport
import Testing


@testable import TakoProxy

/// Limits and timeouts, over real sockets with raw bytes.
@Suite("Proxy limits and timeouts", .serialized)
struct ProxyLimitsTests {
    private func proxy(_ web: UpstreamProcess, configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws -> RunningProxy {
        var configuration = ProxyConfiguration(eventLoops: 1)
        configure(&configuration)
        return try await RunningProxy(serving: web, configuration: configuration)
    }

    @Test func oversizedHeadIs431() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web)
        let client = try RawClient(port: proxy.port)
        client.send("GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: " + String(repeating: "a", count: 40 * 1024))
        let answer = client.read(until: "\r\n\r\n")
        await proxy.stop()
        #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(200))")
    }

    @Test func headJustUnderTheLimitIsServed() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web)
        let client = try RawClient(port: proxy.port)
        client.send("GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: " + String(repeating: "a", count: 30 * 1024) + "\r\n\r\n")
        let answer = client.read(until: "\"app\"")
        await proxy.stop()
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
    }

    @Test func longURIIs414() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web)
        let client = try RawClient(port: proxy.port)
        client.send("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: example.test\r\n\r\n")
        let answer = client.read(until: "\r\n\r\n")
        await proxy.stop()
        #expect(answer.hasPrefix("HTTP/1.1 414"), "\(answer.prefix(200))")
    }

    @Test func declaredOversizedBodyIs413() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web)
        let client = try RawClient(port: proxy.port)
        client.send("POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: \(200 * 1024 * 1024)\r\n\r\nabc")
        let answer = client.read(until: "\r\n\r\n")
        await proxy.stop()
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
    }

    @Test func streamedOversizedBodyIsCut() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.maxBodyBytes = 1024 * 1024 }
        let client = try RawClient(port: proxy.port)
        client.send("POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "z", count: 64 * 1024)
        for _ in 0..<40 {
            guard client.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n") else { break }
        }
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(closed)
        #expect(!text.contains("HTTP/1.1 200"), "\(text.prefix(200))")
    }

    @Test func slowHeadIsClosedWhileOthersAreServed() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.headTimeout = .milliseconds(300) }
        let slow = try RawClient(port: proxy.port)
        slow.send("GET / HTTP/1.1\r\nHost: exam")
        let normal = try Curl.request(port: proxy.port, host: "example.test", path: "/")
        #expect(normal.status == 200)
        let (data, closed) = slow.readToEnd()
        await proxy.stop()
        #expect(closed, "the slow client was not disconnected")
        #expect(data.isEmpty)
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.idleTimeout = .milliseconds(300) }
        let client = try RawClient(port: proxy.port)
        client.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        #expect(closed)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
    }

    @Test func hungUpstreamIs504() async throws {
        let hung = try SilentListener()
        let port = hung.port
        var configuration = ProxyConfiguration(eventLoops: 1)
        configuration.upstreamResponseTimeout = .milliseconds(300)
        let proxy = try await RunningProxy(
            routes: ["web": ["example.test"]], upstreams: ["web": [try SocketAddress(ipAddress: "127.0.0.1", port: port)]],
            configuration: configuration)
        let response = try Curl.request(port: proxy.port, host: "example.test", path: "/")
        await proxy.stop()
        #expect(response.status == 504)
    }
}
