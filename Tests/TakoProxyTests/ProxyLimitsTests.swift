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

    @Test("one client address gets at most maxRequestsPerClient requests in flight; more get 429 until some finish")
    func perClientCap() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.maxRequestsPerClient = 3 }
        let slow = try (0..<3).map { _ in try RawClient(port: proxy.port) }
        // Requests the app holds far longer than the test runs: the slots stay taken.
        for client in slow { client.send("GET /sleep/30000 HTTP/1.1\r\nHost: example.test\r\n\r\n") }
        try await waitUntil("the three requests reach the app") { web.seen("GET /sleep/30000") >= 3 }
        let refused = try RawClient(port: proxy.port)
        refused.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
        let answer = refused.read(until: "\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 429"), "\(answer.prefix(200))")
        #expect(answer.lowercased().contains("retry-after: 1"))
        // Answers the proxy gives itself take no slot.
        refused.send("GET / HTTP/1.1\r\nHost: unknown.test\r\n\r\n")
        #expect(refused.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        // Clients that go away give their slots back: the refused connection is served again.
        for client in slow { client.disconnect() }
        try await waitUntil("a slot is free again") {
            let probe = try RawClient(port: proxy.port)
            probe.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
            return probe.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 200")
        }
        await proxy.stop()
    }

    @Test("a client that stops sending its body is answered 408 at bodyTimeout; the next client is served")
    func stalledBodyIs408() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.bodyTimeout = .seconds(1) }
        let client = try RawClient(port: proxy.port)
        let started = ContinuousClock.now
        client.send("POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 100\r\n\r\n0123456789")
        let (data, closed) = client.readToEnd()
        let elapsed = ContinuousClock.now - started
        let other = try RawClient(port: proxy.port)
        other.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
        let served = other.read(until: "\"app\"")
        await proxy.stop()
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("HTTP/1.1 408"), "\(String(decoding: data.prefix(200), as: UTF8.self))")
        #expect(closed)
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(8), "\(elapsed)")
        #expect(served.hasPrefix("HTTP/1.1 200"))
    }

    @Test("a client that reads nothing of a large response is disconnected at sendTimeout")
    func slowReaderIsDisconnected() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await proxy(web) { $0.sendTimeout = .seconds(1) }
        let size = 64 << 20
        let client = try RawClient(port: proxy.port)
        client.send("GET /bytes/\(size) HTTP/1.1\r\nHost: example.test\r\n\r\n")
        // Reading nothing while the buffers fill and the proxy's clock runs out.
        try await Task.sleep(for: .seconds(4))
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        #expect(closed)
        #expect(data.count < size, "the whole response arrived: \(data.count) bytes")
        #expect(String(decoding: data.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
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
