import NIOHTTP1
import TakoTestSupport
import Testing

@testable import TakoProxy

@Suite("Header rewriting")
struct HeaderRewriterTests {
    private func request(_ headers: [(String, String)], version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: "/x", headers: HTTPHeaders(headers))
    }

    @Test func hopByHopAndConnectionNamedHeadersAreRemoved() {
        let head = HeaderRewriter.upstreamRequest(
            request([
                ("Host", "a.test"), ("Connection", "close, X-One"), ("connection", "x-two"), ("X-One", "1"), ("X-Two", "2"),
                ("Keep-Alive", "5"), ("TE", "trailers"), ("Upgrade", "h2c"), ("Proxy-Authorization", "x"), ("X-Keep", "k"),
            ]), clientAddress: "10.0.0.1", trustedPeer: false, scheme: "https", requestID: { "id" })
        for name in ["connection", "x-one", "x-two", "keep-alive", "te", "upgrade", "proxy-authorization"] {
            #expect(!head.headers.contains(name: name), "\(name) should be gone")
        }
        #expect(head.headers["x-keep"] == ["k"])
        #expect(head.headers["host"] == ["a.test"])
        #expect(head.version == .http1_1)
    }

    @Test(arguments: [
        (false, "6.6.6.6", "10.0.0.1"),
        (true, "6.6.6.6", "6.6.6.6, 10.0.0.1"),
        (true, "", "10.0.0.1"),
    ])
    func forwardedForIsKeptOnlyFromTrustedPeers(trusted: Bool, incoming: String, expected: String) {
        var headers: [(String, String)] = [("Host", "a.test")]
        if !incoming.isEmpty { headers.append(("X-Forwarded-For", incoming)) }
        let head = HeaderRewriter.upstreamRequest(
            request(headers), clientAddress: "10.0.0.1", trustedPeer: trusted, scheme: "http", requestID: { "id" })
        #expect(head.headers["x-forwarded-for"] == [expected])
    }

    @Test func forwardedProtoAndHostAndRequestID() {
        let head = HeaderRewriter.upstreamRequest(
            request([("Host", "a.test:8443"), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil")]),
            clientAddress: "10.0.0.1", trustedPeer: false, scheme: "https", requestID: { "generated" })
        #expect(head.headers["x-forwarded-proto"] == ["https"])
        #expect(head.headers["x-forwarded-host"] == ["a.test:8443"])
        #expect(head.headers["x-request-id"] == ["generated"])
    }

    @Test func chunkedFramingIsKeptAndExpectIsDropped() {
        let head = HeaderRewriter.upstreamRequest(
            request([("Host", "a"), ("Transfer-Encoding", "chunked"), ("Expect", "100-continue")]),
            clientAddress: nil, trustedPeer: false, scheme: "http", requestID: { "id" })
        #expect(head.headers["transfer-encoding"] == ["chunked"])
        #expect(!head.headers.contains(name: "expect"))
    }

    @Test func responsesLoseHopByHopHeadersAndSayCloseWhenClosing() {
        let upstream = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: HTTPHeaders([("Connection", "X-Internal"), ("X-Internal", "1"), ("Keep-Alive", "timeout=5"), ("Content-Length", "3")]))
        let closing = HeaderRewriter.clientResponse(upstream, keepAlive: false, clientVersion: .http1_1)
        #expect(closing.headers["connection"] == ["close"])
        #expect(!closing.headers.contains(name: "x-internal") && !closing.headers.contains(name: "keep-alive"))
        #expect(closing.headers["content-length"] == ["3"])
        let old = HeaderRewriter.clientResponse(upstream, keepAlive: true, clientVersion: .http1_0)
        #expect(old.headers["connection"] == ["keep-alive"])
        #expect(old.version == .http1_0)
    }

    @Test(arguments: [
        ("/path?q=1", "h.test", "h.test", "/path?q=1"),
        ("http://other.test/x/y", "h.test", "other.test", "/x/y"),
        ("http://other.test", "h.test", "other.test", "/"),
        ("*", "h.test", "h.test", "*"),
    ])
    func requestTargets(uri: String, host: String, expectedHost: String, expectedPath: String) {
        let (foundHost, foundPath) = ProxyHandler.target(of: uri, host: host)
        #expect(foundHost == expectedHost)
        #expect(foundPath == expectedPath)
    }
}

@Suite("Request IDs and header roles")
struct RequestIDTests {
    @Test func requestIDsAreFixedWidthHexAndUnique() {
        let generator = RequestIDGenerator()
        let ids = (0..<1000).map { _ in generator.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(3) {
            #expect(id.utf8.count == 33)
            #expect(id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || $0 == UInt8(ascii: "-") })
        }
    }

    @Test(arguments: [
        ("Connection", HeaderRewriter.Role.connection), ("KEEP-ALIVE", .hopByHop), ("Te", .hopByHop),
        ("Transfer-Encoding", .transferEncoding), ("x-forwarded-FOR", .forwardedFor), ("X-Request-Id", .requestID),
        ("Proxy-Authorization", .hopByHop), ("Host", .host), ("X-Custom", .other), ("Keep_Alive", .other),
    ])
    func headerRolesIgnoreCase(name: String, role: HeaderRewriter.Role) {
        #expect(HeaderRewriter.role(of: name) == role)
    }
}
