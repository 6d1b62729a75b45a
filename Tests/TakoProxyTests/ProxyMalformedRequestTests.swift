import Foundation
import NIOCore
import TakoTestSupport
import Testing

@testable import TakoProxy

/// Malformed and ambiguous requests: each is answered 400 and its connection closed, and the
/// upstream never sees the request hidden inside it.
@Suite("Proxy: malformed requests", .serialized)
struct ProxyMalformedRequestTests {
    static let attacks: [(name: String, bytes: String)] = [
        ("Content-Length with Transfer-Encoding",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("two different Content-Lengths",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("Transfer-Encoding: chunked, identity",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("space before the colon",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"),
        ("bad chunk size",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /smuggled HTTP/1.1\r\n\r\n"),
        ("overflowing chunk size",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n0\r\n\r\n"),
        ("obs-fold",
         "GET /a HTTP/1.1\r\nHost: example.test\r\nX-Folded: a\r\n b\r\n\r\n"),
        ("NUL in a header",
         "GET /a HTTP/1.1\r\nHost: example.test\r\nX-Nul: a\u{0}b\r\n\r\n"),
        ("bare CR in a header",
         "GET /a HTTP/1.1\r\nHost: example.test\r\nX-CR: a\rb\r\n\r\n"),
        ("missing Host on HTTP/1.1",
         "GET /a HTTP/1.1\r\nX-Nothing: 1\r\n\r\n"),
        ("two Host headers",
         "GET /a HTTP/1.1\r\nHost: example.test\r\nHost: other.test\r\n\r\n"),
        ("the same Content-Length twice",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: 44\r\nContent-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("a Content-Length list",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: 44, 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("a signed Content-Length",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: +44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("a vertical tab before chunked",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: \u{0B}chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("a chunk without its CRLF",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("space before the colon of an ordinary header",
         "GET /a HTTP/1.1\r\nHost: example.test\r\nX-Test : 1\r\n\r\n"),
        ("Transfer-Encoding twice",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("Transfer-Encoding on HTTP/1.0",
         "POST /a HTTP/1.0\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
    ]

    /// Codings the proxy cannot forward faithfully: 501, closed, nothing reaches the app.
    static let unimplemented: [(name: String, bytes: String)] = [
        ("Transfer-Encoding: xchunked",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
        ("gzip, chunked",
         "POST /a HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n"),
    ]

    @Test(arguments: attacks.map(\.name))
    func isRejectedAndNothingIsSmuggled(name: String) async throws {
        try await check(name, Self.attacks.first { $0.name == name }!.bytes, answered: "400")
    }

    @Test(arguments: unimplemented.map(\.name))
    func isNotImplementedAndNothingIsSmuggled(name: String) async throws {
        try await check(name, Self.unimplemented.first { $0.name == name }!.bytes, answered: "501")
    }

    /// One answer with `status`, the connection closed, and no request hidden in `bytes`
    /// reached the recording upstream.
    private func check(_ name: String, _ bytes: String, answered status: String) async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send(bytes)
        let (data, closed) = client.readToEnd()
        let seen = try Curl.request(port: proxy.port, host: "example.test", path: "/__seen")
        await proxy.stop()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.") && text.dropFirst(9).hasPrefix(status), "\(name): \(text.prefix(300))")
        #expect(closed, "\(name): connection left open")
        let paths = (try? JSONSerialization.jsonObject(with: seen.body) as? [String]) ?? ["unreadable"]
        #expect(!paths.contains { $0.contains("/smuggled") || $0.contains("/a") }, "\(name): reached the app: \(paths)")
        #expect(text.components(separatedBy: "HTTP/1.").count == 2, "\(name): more than one response: \(text)")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let web = try UpstreamProcess(name: "web")
        let proxy = try await RunningProxy(serving: web, configuration: ProxyConfiguration(eventLoops: 1))
        let client = try RawClient(port: proxy.port)
        client.send((1...4).map { "GET /p/\($0) HTTP/1.1\r\nHost: example.test\r\n\r\n" }.joined())
        let text = client.read(until: "/p/4")
        await proxy.stop()
        let order = ["/p/1", "/p/2", "/p/3", "/p/4"].map { text.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(text)")
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "answers out of order")
    }
}
