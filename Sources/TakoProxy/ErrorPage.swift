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
        headers.add(name: "content-type", value: "text/html; charset=utf-8")
        headers.add(name: "content-length", value: String(contentLength))
        headers.add(name: "cache-control", value: "no-store")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }
}
