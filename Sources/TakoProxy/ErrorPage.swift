import NIOCore
import NIOHTTP1

/// The proxy's own answers. Generic on purpose: the details of what failed go to the log,
/// never to the client.
struct ErrorPage {
    var status: HTTPResponseStatus
    var extraHeaders: [(String, String)] = []

    static let notFound = ErrorPage(status: .notFound)
    static let badGateway = ErrorPage(status: .badGateway)
    static let gatewayTimeout = ErrorPage(status: .gatewayTimeout)
    static let badRequest = ErrorPage(status: .badRequest)
    static let serviceUnavailable = ErrorPage(status: .serviceUnavailable, extraHeaders: [("retry-after", "1")])
    static let tooManyRequests = ErrorPage(status: .tooManyRequests, extraHeaders: [("retry-after", "1")])

    func body() -> String {
        "<!doctype html><title>\(status.code) \(status.reasonPhrase)</title><h1>\(status.code) \(status.reasonPhrase)</h1>\n"
    }

    func head(version: HTTPVersion, keepAlive: Bool, contentLength: Int) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + extraHeaders.count)
        for (name, value) in fields(keepAlive: keepAlive, contentLength: contentLength) { headers.add(name: name, value: value) }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

    /// The whole response as HTTP/1.x bytes, for the fast path (which has no encoder).
    /// The whole response: this page's own HTML, or `body` with `contentType` (the status
    /// page's JSON) in its place.
    func bytes(
        isHTTP10: Bool, keepAlive: Bool, includeBody: Bool, allocator: ByteBufferAllocator, body custom: ByteBuffer? = nil,
        contentType: String? = nil
    ) -> ByteBuffer {
        let text = custom == nil ? self.body() : ""
        let length = custom?.readableBytes ?? text.utf8.count
        var out = allocator.buffer(capacity: 256 + length)
        out.writeString("\(isHTTP10 ? "HTTP/1.0" : "HTTP/1.1") \(status.code) \(status.reasonPhrase)\r\n")
        for (name, value) in fields(keepAlive: keepAlive, contentLength: length) {
            out.writeString("\(name): \(name == "content-type" ? contentType ?? value : value)\r\n")
        }
        out.writeStaticString("\r\n")
        if includeBody {
            if let custom { out.writeImmutableBuffer(custom) } else { out.writeString(text) }
        }
        return out
    }

    func fields(keepAlive: Bool, contentLength: Int) -> [(String, String)] {
        var fields = [
            ("content-type", "text/html; charset=utf-8"), ("content-length", String(contentLength)), ("cache-control", "no-store"),
        ]
        fields += extraHeaders
        if !keepAlive { fields.append(("connection", "close")) }
        return fields
    }
}
