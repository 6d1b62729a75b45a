import NIOCore
import Testing

@testable import TakoProxy

/// The fast path's parser, chunk scanner and head writer, on bytes.
@Suite("Proxy fast path: heads in place")
struct RawHeadTests {
    static func request(_ text: String) -> RawHead.Result<RawRequestHead> {
        var lines: [RawHeaderLine] = []
        return Array(text.utf8).withUnsafeBytes { RawHead.parseRequest($0, lines: &lines, maxTargetBytes: 64) }
    }

    static func response(_ text: String) -> RawHead.Result<RawResponseHead> {
        var lines: [RawHeaderLine] = []
        return Array(text.utf8).withUnsafeBytes { RawHead.parseResponse($0, lines: &lines) }
    }

    static let plain = "GET /a?b=c HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\nX-Request-ID: given\r\n\r\n"

    @Test func plainRequestIsParsed() throws {
        guard case .complete(let head) = Self.request(Self.plain + "GET /next") else {
            Issue.record("not parsed")
            return
        }
        let bytes = Array(Self.plain.utf8)
        #expect(head.length == bytes.count)
        #expect(String(decoding: bytes[head.targetStart..<head.targetEnd], as: UTF8.self) == "/a?b=c")
        #expect(String(decoding: bytes[head.hostStart..<head.hostEnd], as: UTF8.self) == "example.test:8080")
        #expect(head.keepAlive && head.hasRequestID && head.isIdempotent && !head.isHEAD && !head.isHTTP10)
    }

    /// The value scan reads eight bytes at a time: every byte value in every lane, beside
    /// plain text and beside obs-text, must be judged as the byte loop would.
    @Test func wordScanFindsEveryControlByte() {
        for filler: UInt8 in [0x61, 0x20, 0x80, 0xFF] {
            for lane in 0..<8 {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[lane] = UInt8(value)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let expected = value < 0x20 || value == 0x7F
                    guard RawHead.hasControlByte(word) == expected else {
                        Issue.record("byte \(value) in lane \(lane) beside \(filler)")
                        return
                    }
                }
            }
        }
    }

    @Test func longValuesAreJudgedByteForByte() throws {
        let value = "Mon, 23 Nov 2026 10:00:00 GMT; and then some more text"
        var lines: [RawHeaderLine] = []
        let text = "HTTP/1.1 200 OK\r\nDate: \(value) \t \r\nContent-Length: 0\r\n\r\n"
        let bytes = Array(text.utf8)
        guard case .complete = bytes.withUnsafeBytes({ RawHead.parseResponse($0, lines: &lines) }) else {
            Issue.record("not parsed")
            return
        }
        #expect(String(decoding: bytes[lines[0].valueStart..<lines[0].valueEnd], as: UTF8.self) == value)
        for bad in ["\u{0}", "\u{7F}", "\u{1}", "\n", "\r"] {
            for position in [0, 7, 8, 9, 30, value.utf8.count] {
                var broken = Array(value.utf8)
                broken.insert(contentsOf: Array(bad.utf8), at: position)
                let head = "HTTP/1.1 200 OK\r\nDate: \(String(decoding: broken, as: UTF8.self))\r\n\r\n"
                guard case .unsupported = Self.response(head) else {
                    Issue.record("\(bad.debugDescription) at \(position) was accepted")
                    return
                }
            }
        }
        guard case .complete = Self.response("HTTP/1.1 200 OK\r\nX: a\tb\u{80}\u{FF}cdefghijklmnop\r\n\r\n") else {
            Issue.record("HTAB and obs-text in a long value were refused")
            return
        }
    }

    @Test func everyPrefixIsIncomplete() {
        let bytes = Array(Self.plain.utf8)
        for length in 0..<bytes.count {
            let text = String(decoding: bytes[0..<length], as: UTF8.self)
            guard case .incomplete = Self.request(text) else {
                Issue.record("prefix of \(length) bytes was not incomplete")
                return
            }
        }
    }

    @Test func keepAliveFollowsTheVersion() {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nHost: a\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            guard case .complete(let head) = Self.request(text) else {
                Issue.record("not parsed: \(text)")
                continue
            }
            #expect(head.keepAlive == keepAlive, "\(text)")
        }
    }

    /// Everything the full pipeline must judge instead (it answers, rejects or streams these).
    @Test(arguments: [
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close, X-Private\r\n\r\n",
        "PUT /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET /a HTTP/1.1\nHost: a\n\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-Nul: a\u{0}b\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-CR: a\rb\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nX-Test : 1\r\n\r\n",
        "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /a HTTP/1.0\r\n\r\n",
        "get /a HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET /a  HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\(String(repeating: "x", count: 80)) HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func leftToTheFullPipeline(_ text: String) {
        guard case .unsupported = Self.request(text) else {
            Issue.record("taken by the fast path: \(text.debugDescription)")
            return
        }
    }

    @Test func tokenBytesAreTheRFCs() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(RawHead.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test func responseFraming() {
        func framing(_ text: String) -> String {
            switch Self.response(text) {
            case .incomplete: "incomplete"
            case .unsupported: "invalid"
            case .complete(let head): head.chunked ? "chunked" : head.contentLength.map { "length \($0)" } ?? "close"
            }
        }
        #expect(framing("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n") == "length 12")
        #expect(framing("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n") == "length 12")
        #expect(framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n") == "invalid")
        #expect(framing("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n") == "invalid")
        #expect(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == "chunked")
        #expect(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == "invalid")
        #expect(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") == "invalid")
        #expect(framing("HTTP/1.0 200 OK\r\n\r\n") == "close")
        #expect(framing("HTTP/1.1 200\r\n\r\n") == "close")
        #expect(framing("HTTP/1.1 2x0 OK\r\n\r\n") == "invalid")
        #expect(framing("HTTP/1.1 200 OK\nContent-Length: 1\n\n") == "invalid")
        #expect(framing("HTTP/1.1 200 OK\r\nContent-Len") == "incomplete")
        guard case .complete(let head) = Self.response("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\n\r\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(head.keepAlive && head.connectionNamesHeaders)
    }

    @Test func chunksAreFollowedByteByByte() {
        let body = Array("5;ext=1\r\nhello\r\n1A\r\n\(String(repeating: "z", count: 26))\r\n0\r\nX-Trailer: t\r\n\r\nNEXT".utf8)
        var scanner = ChunkedScanner()
        var data: [UInt8] = []
        var end: Int?
        for index in body.indices {
            let result = body[index...index].withUnsafeBytes { bytes in
                scanner.scan(bytes) { range in data += bytes[range] }
            }
            if case .end(let at) = result {
                end = index + at
                break
            }
            #expect(result == .more)
        }
        #expect(end == body.count - 4)
        #expect(String(decoding: data, as: UTF8.self) == "hello" + String(repeating: "z", count: 26))
    }

    @Test(arguments: ["5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n0\r\n\r\n", "zz\r\n", "ffffffffffffffffff1\r\n", "0\r\nX: y\n\r\n", " 5\r\nhello\r\n"])
    func malformedChunksAreInvalid(_ text: String) {
        var scanner = ChunkedScanner()
        let result = Array(text.utf8).withUnsafeBytes { scanner.scan($0) }
        #expect(result == .invalid, "\(text.debugDescription)")
    }

    @Test func upstreamRequestIsRewritten() throws {
        let text =
            "GET /a HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\n"
            + "X-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n"
        func rewrite(trusted: Bool) throws -> String {
            var lines: [RawHeaderLine] = []
            let bytes = Array(text.utf8)
            return try bytes.withUnsafeBytes { raw in
                guard case .complete(let head) = RawHead.parseRequest(raw, lines: &lines, maxTargetBytes: 64) else {
                    throw CancellationError()
                }
                let out = RawHeadWriter.upstreamRequest(
                    head, lines: lines, from: raw, allocator: ByteBufferAllocator(), clientAddress: "192.0.2.7",
                    trustedPeer: trusted, scheme: "http", requestIDs: RequestIDGenerator())
                return String(buffer: out)
            }
        }
        let untrusted = try rewrite(trusted: false)
        #expect(untrusted.hasPrefix("GET /a HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\nx-forwarded-for: 192.0.2.7\r\n"))
        #expect(untrusted.contains("\r\nx-forwarded-proto: http\r\nx-forwarded-host: example.test\r\nx-request-id: "))
        #expect(!untrusted.lowercased().contains("te: trailers") && !untrusted.lowercased().contains("connection"))
        #expect(untrusted.hasSuffix("\r\n\r\n"))
        let trusted = try rewrite(trusted: true)
        #expect(trusted.contains("\r\nx-forwarded-for: 10.0.0.1, 192.0.2.7\r\nx-forwarded-proto: https\r\n"))
    }

    @Test func clientResponseIsRewritten() throws {
        let text =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
            + "Transfer-Encoding: chunked\r\nX-Kept: 1\r\n\r\n"
        var lines: [RawHeaderLine] = []
        let bytes = Array(text.utf8)
        let written = try bytes.withUnsafeBytes { raw in
            guard case .complete(let head) = RawHead.parseResponse(raw, lines: &lines) else { throw CancellationError() }
            let out = RawHeadWriter.clientResponse(
                head, lines: lines, from: raw, allocator: ByteBufferAllocator(), clientIsHTTP10: false, keepAlive: false,
                chunked: true)
            return String(buffer: out)
        }
        #expect(
            written
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Kept: 1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
    }

    /// The writer reserves room from an upper bound once (`HeadBytes`): heads made mostly of
    /// what the proxy rewrites, and a small body sent with its head, must fit in it.
    @Test func rewrittenHeadsFitTheirRoom() throws {
        let forwarded = String(repeating: "1", count: 4000)
        let request =
            "GET / HTTP/1.1\r\nHost: \(String(repeating: "h", count: 200))\r\nX-Forwarded-For: \(forwarded)\r\n"
            + "X-Forwarded-For: \(forwarded)\r\nX-Forwarded-Proto: \(forwarded)\r\nX-Forwarded-Host: \(forwarded)\r\n\r\n"
        var lines: [RawHeaderLine] = []
        let rewritten = try Array(request.utf8).withUnsafeBytes { raw in
            guard case .complete(let head) = RawHead.parseRequest(raw, lines: &lines, maxTargetBytes: 64) else {
                throw CancellationError()
            }
            return String(
                buffer: RawHeadWriter.upstreamRequest(
                    head, lines: lines, from: raw, allocator: ByteBufferAllocator(),
                    clientAddress: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", trustedPeer: true, scheme: "https",
                    requestIDs: RequestIDGenerator()))
        }
        #expect(rewritten.contains("x-forwarded-for: \(forwarded), \(forwarded), 2001:db8:"))
        #expect(rewritten.contains("\r\nx-forwarded-host: \(forwarded)\r\n"))

        let response = "HTTP/1.0 204 X\r\nA: b\r\n\r\nhello, world"
        let written = try Array(response.utf8).withUnsafeBytes { raw in
            guard case .complete(let head) = RawHead.parseResponse(raw, lines: &lines) else { throw CancellationError() }
            return String(
                buffer: RawHeadWriter.clientResponse(
                    head, lines: lines, from: raw, allocator: ByteBufferAllocator(), clientIsHTTP10: true, keepAlive: true,
                    chunked: true, body: 5))
        }
        #expect(written == "HTTP/1.0 204 X\r\nA: b\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\nhello")
    }
}
