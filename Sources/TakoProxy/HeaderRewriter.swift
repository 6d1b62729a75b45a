import NIOHTTP1

/// The header changes a reverse proxy makes, in both directions (RFC 9110 §7.6.1).
enum HeaderRewriter {
    /// Hop-by-hop headers: they describe one connection and never cross the proxy.
    /// `transfer-encoding` is among them: NIO decodes the incoming framing and the encoder
    /// frames the outgoing message itself.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Removes hop-by-hop headers and every header the `Connection` header names.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        var named: [String] = []
        for value in headers[canonicalForm: "connection"] {
            named.append(value.lowercased())
        }
        headers.remove(name: "connection")
        for name in hopByHop where headers.contains(name: name) {
            headers.remove(name: name)
        }
        for name in named where headers.contains(name: name) {
            headers.remove(name: name)
        }
    }

    /// The head sent upstream: hop-by-hop headers gone, `X-Forwarded-*` and `X-Request-ID`
    /// set, the request's own body framing kept. `Host` passes through unchanged.
    static func upstreamRequest(
        _ head: HTTPRequestHead, clientAddress: String?, trustedPeer: Bool, scheme: String, requestID: () -> String
    ) -> HTTPRequestHead {
        var headers = head.headers
        let chunked = headers[canonicalForm: "transfer-encoding"].last.map { $0.lowercased() == "chunked" } ?? false
        removeHopByHop(&headers)
        if chunked, !headers.contains(name: "content-length") {
            headers.add(name: "transfer-encoding", value: "chunked")
        }

        let forwardedFor = trustedPeer ? headers["x-forwarded-for"].joined(separator: ", ") : ""
        headers.remove(name: "x-forwarded-for")
        if let clientAddress {
            headers.add(name: "x-forwarded-for", value: forwardedFor.isEmpty ? clientAddress : "\(forwardedFor), \(clientAddress)")
        } else if !forwardedFor.isEmpty {
            headers.add(name: "x-forwarded-for", value: forwardedFor)
        }
        if !trustedPeer || !headers.contains(name: "x-forwarded-proto") {
            headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        }
        if !trustedPeer || !headers.contains(name: "x-forwarded-host"), let host = headers.first(name: "host") {
            headers.replaceOrAdd(name: "x-forwarded-host", value: host)
        }
        // The proxy answers `Expect: 100-continue` itself (see ProxyHandler), so the upstream
        // must not wait for a body it already has.
        headers.remove(name: "expect")
        if !headers.contains(name: "x-request-id") {
            headers.add(name: "x-request-id", value: requestID())
        }
        // Upstream connections are always HTTP/1.1 keep-alive, whatever the client spoke.
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// The head sent to the client: hop-by-hop headers gone; `Connection: close` when this
    /// is the connection's last response.
    static func clientResponse(_ head: HTTPResponseHead, keepAlive: Bool, clientVersion: HTTPVersion) -> HTTPResponseHead {
        var headers = head.headers
        let chunked = headers[canonicalForm: "transfer-encoding"].last.map { $0.lowercased() == "chunked" } ?? false
        removeHopByHop(&headers)
        if chunked, !headers.contains(name: "content-length"), clientVersion != .http1_0 {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if clientVersion == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }
}
