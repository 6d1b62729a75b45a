import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// Graceful drain: stop accepting, finish what is in flight, then close.
@Suite("Proxy: graceful drain", .serialized)
struct ProxyDrainTests {
    /// Waits (bounded) until the upstream has received `target`.
    private func waitUntilUpstreamSaw(_ target: String, upstream: UpstreamProcess) throws -> Bool {
        for _ in 0..<200 {
            let seen = try Curl.run(["http://127.0.0.1:\(upstream.port)/__seen"])
            if String(decoding: seen.output, as: UTF8.self).contains(target) { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func inFlightRequestsFinishBeforeTheConnectionCloses() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        // The whole suite at once once kept this close waiting past 5 s; a close that never
        // comes still fails at the read timeout.
        let client = try RawClient(port: proxy.port)
        // Long enough that the drain surely starts while the upstream still sleeps: each
        // check below runs curl, which took 450 ms after another suite had run.
        let sent = ContinuousClock.now
        client.send("GET /sleep/2000 HTTP/1.1\r\nHost: example.test\r\n\r\n")
        #expect(try waitUntilUpstreamSaw("GET /sleep/2000", upstream: web))
        try #require(ContinuousClock.now - sent < .milliseconds(1800), "the check itself took too long to prove anything")

        proxy.server.startDraining()
        let (data, closed) = client.readToEnd()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"), "in-flight request cut: \(text.prefix(200))")
        #expect(text.lowercased().contains("connection: close"), "\(text.prefix(300))")
        #expect(text.contains("\"path\": \"/sleep/2000\""))
        #expect(closed)
        await proxy.server.shutdown(deadline: .seconds(10))
    }

    @Test func idleConnectionsCloseAtOnce() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
        _ = client.read(until: "}")
        let started = ContinuousClock.now
        // A connection that held up the drain would keep it to the 30 s deadline; well under
        // half of that leaves room for a machine loaded by the whole suite (6.6 s was seen).
        await proxy.server.shutdown(deadline: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(Sanitizers.thread ? 28 : 12), "an idle keep-alive connection held up the drain")
        let (_, closed) = client.readToEnd()
        #expect(closed)
    }
}
