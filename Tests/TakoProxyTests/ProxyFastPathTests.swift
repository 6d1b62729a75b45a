import Foundation
import NIOCore
import NIOHTTP1
import TakoTestSupport
import Testing

@testable import TakoProxy

/// The fast path and the full pipeline on one connection, over real sockets: a connection
/// moves to the full pipeline mid-stream without losing or reordering anything, and what the
/// fast path frames itself (HEAD, chunks for an HTTP/1.0 client) is framed right.
@Suite("Proxy fast path over real sockets", .serialized)
struct ProxyFastPathTests {
    @Test func connectionMovesToTheFullPipelineMidStream() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        // A plain GET (fast path), then one pipelined write: GET, a POST with a body (which
        // moves the connection), GET.
        _ = client.send("GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n")
        let first = client.read(until: "\"connection_request\"")
        _ = client.send(
            "GET /p/1 HTTP/1.1\r\nHost: example.test\r\n\r\n"
                + "POST /p/2 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /p/3 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(first.hasPrefix("HTTP/1.1 200"))
        let order = ["/p/1", "/p/2", "/p/3"].map { text.range(of: "\"path\": \"\($0)\"")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(text)")
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "answers out of order: \(text)")
        #expect(text.contains("\"body_bytes\": 5"), "the POST body did not arrive whole: \(text)")
        #expect(text.components(separatedBy: "HTTP/1.1 200").count == 4)
        #expect(closed)
    }

    @Test func statusPageIsAnsweredInOrderAmongPipelinedRequests() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(
            routes: ["web": ["example.test"]], upstreams: ["web": [web.address]], configuration: ProxyConfiguration(eventLoops: 1),
            statusHandler: { (.ok, ByteBuffer(string: "{\"healthy\":true}")) })
        let client = try RawClient(port: proxy.port)
        // Many status requests in one write (answered without recursion), an app request
        // between them, a HEAD, and a close at the end.
        let statuses = String(repeating: "GET /_tako/status HTTP/1.1\r\nHost: any.test\r\n\r\n", count: 2000)
        _ = client.send(
            statuses + "GET /app HTTP/1.1\r\nHost: example.test\r\n\r\n"
                + "HEAD /_tako/status HTTP/1.1\r\nHost: any.test\r\n\r\n"
                + "GET /_tako/status HTTP/1.1\r\nHost: any.test\r\nConnection: close\r\n\r\n")
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        let responses = Array(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst())
        #expect(responses.count == 2003, "\(responses.count) responses")
        #expect(responses.prefix(2000).allSatisfy { (response: String) in response.contains("application/json") && response.hasSuffix("{\"healthy\":true}") })
        let tail = Array(responses.suffix(3))
        #expect(tail.count == 3 && tail[0].contains("\"path\": \"/app\""), "the app's answer comes after the statuses: \(tail)")
        #expect(tail.count == 3 && tail[1].hasSuffix("\r\n\r\n") && !tail[1].contains("healthy"), "HEAD has no body")
        #expect(tail.count == 3 && tail[2].lowercased().contains("connection: close") && tail[2].hasSuffix("{\"healthy\":true}"))
        #expect(closed)
    }

    /// A response's body that arrives with its head, whole or in part, goes to the client
    /// with the head (up to `RawUpstreamConnection.bodyWithHeadBytes`); the rest follows as
    /// it comes, and nothing is lost, doubled or reordered.
    @Test func bodyThatArrivesWithItsHeadIsPassedOnWhole() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        let cases = [(100, 100), (3000, 1000), (4096, 4096), (5000, 5000), (20000, 100), (0, 0)]
        var requests = ""
        for (size, first) in cases { requests += "GET /together/\(size)/\(first) HTTP/1.1\r\nHost: example.test\r\n\r\n" }
        _ = client.send(requests + "GET /after HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        let responses = Array(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst())
        #expect(responses.count == cases.count + 1, "\(text.prefix(2000))")
        for ((size, _), response) in zip(cases, responses) {
            let body = String(response.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false).last ?? "")
            let expected = String((0..<size).map { Character(String($0 % 10)) })
            #expect(body == expected, "a body of \(size) bytes came as \(body.count)")
            #expect(response.lowercased().contains("content-length: \(size)\r\n"))
        }
        #expect(responses.last?.contains("\"path\": \"/after\"") == true)
        #expect(closed)
    }

    @Test func headResponseHasNoBodyAndKeepsTheConnection() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        _ = client.send(
            "HEAD /h HTTP/1.1\r\nHost: example.test\r\n\r\nGET /after HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        let (data, _) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        let responses = text.components(separatedBy: "HTTP/1.1 200 OK\r\n")
        #expect(responses.count == 3, "\(text)")
        // The HEAD answer's head is followed at once by the next response.
        #expect(responses.count == 3 && responses[1].hasSuffix("\r\n\r\n") && responses[1].lowercased().contains("content-length:"))
        #expect(text.contains("\"path\": \"/after\""))
    }

    @Test func http10ClientGetsChunkedBodyAsPlainBytes() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        _ = client.send("GET /sse HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n")
        let (data, closed) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.0 200"), "\(text)")
        #expect(!text.lowercased().contains("transfer-encoding"))
        #expect(text.lowercased().contains("connection: close"))
        #expect(text.hasSuffix("\r\n\r\ndata: event 0\n\ndata: event 1\n\ndata: event 2\n\n"), "\(text.debugDescription)")
        #expect(closed, "a body without a length ends its connection")
    }

    @Test func http11ClientGetsChunksPassedThrough() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        _ = client.send("GET /sse HTTP/1.1\r\nHost: example.test\r\n\r\nGET /after HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")
        let (data, _) = client.readToEnd()
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.lowercased().contains("transfer-encoding: chunked"))
        #expect(text.contains("f\r\ndata: event 2\n\n\r\n0\r\n\r\nHTTP/1.1 200 OK"), "\(text.debugDescription)")
        #expect(text.contains("\"path\": \"/after\""))
    }
}
