import NIOHTTP1

/// The header changes a reverse proxy makes, in both directions (RFC 9110 §7.6.1).
///
/// Each head is rewritten in one pass that copies the headers it keeps: this runs for every
/// request and response, so it avoids repeated scans, lower-cased copies and `Set` lookups.
enum HeaderRewriter {
    /// What a header name means to the proxy.
    enum Role {
        /// Describes one connection and never crosses the proxy.
        case hopByHop
        /// `Upgrade`: hop-by-hop, except in the exchange that switches protocols.
        case upgrade
        /// `Connection`: hop-by-hop, and names further hop-by-hop headers.
        case connection
        /// Hop-by-hop too: NIO decodes the incoming framing and frames the outgoing message.
        case transferEncoding
        case contentLength
        case host
        case expect
        case forwardedFor
        case forwardedProto
        case forwardedHost
        case requestID
        case other
    }

    static func role(of name: String) -> Role {
        var name = name
        return name.withUTF8 { role(of: UnsafeRawBufferPointer($0)) }
    }

    /// The role of a header name given as bytes (the fast path's parser reads them in place).
    static func role(of bytes: UnsafeRawBufferPointer) -> Role {
        switch bytes.count {
        case 2: return matches(bytes, "te") ? .hopByHop : .other
        case 4: return matches(bytes, "host") ? .host : .other
        case 6: return matches(bytes, "expect") ? .expect : .other
        case 7:
            if matches(bytes, "trailer") { return .hopByHop }
            if matches(bytes, "upgrade") { return .upgrade }
            return .other
        case 10:
            if matches(bytes, "connection") { return .connection }
            if matches(bytes, "keep-alive") { return .hopByHop }
            return .other
        case 12: return matches(bytes, "x-request-id") ? .requestID : .other
        case 14: return matches(bytes, "content-length") ? .contentLength : .other
        case 15: return matches(bytes, "x-forwarded-for") ? .forwardedFor : .other
        case 16:
            if matches(bytes, "x-forwarded-host") { return .forwardedHost }
            if matches(bytes, "proxy-connection") { return .hopByHop }
            return .other
        case 17:
            if matches(bytes, "transfer-encoding") { return .transferEncoding }
            if matches(bytes, "x-forwarded-proto") { return .forwardedProto }
            return .other
        case 18: return matches(bytes, "proxy-authenticate") ? .hopByHop : .other
        case 19: return matches(bytes, "proxy-authorization") ? .hopByHop : .other
        default: return .other
        }
    }

    /// ASCII case-insensitive comparison with a lower-case name (only A-Z fold).
    static func matches(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let target = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        for index in 0..<bytes.count {
            var byte = bytes[index]
            if byte >= 65 && byte <= 90 { byte += 32 }
            if byte != target[index] { return false }
        }
        return true
    }

    /// Whether the last transfer coding is `chunked` (the only one NIO's decoder accepts).
    private static func isChunked(_ value: String) -> Bool {
        let last = value.split(separator: ",").last.map { $0.trimmingSpaces() } ?? ""
        return last.count == 7 && last.lowercased() == "chunked"
    }

    /// The tokens of a `Connection` header value, lower-cased.
    private static func connectionTokens(_ value: String) -> [String] {
        // Nearly every message says just `keep-alive` or `close`, which name no header:
        // answering those without splitting keeps the common head free of allocations.
        var value = value
        let onlyOption = value.withUTF8 { matches(UnsafeRawBufferPointer($0), "keep-alive") || matches(UnsafeRawBufferPointer($0), "close") }
        if onlyOption { return [] }
        return value.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    /// What the proxy needs to know about a request head before routing it, from one pass
    /// over its headers.
    struct RequestFacts {
        var host: String?
        var hostCount = 0
        var contentLength: String?
        var expectsContinue = false
        var upgrade: String?
        var connectionUpgrade = false
        /// `Transfer-Encoding` lines, and whether they are exactly one saying just `chunked`
        /// (the only coding the proxy forwards: it decodes the chunks and chunks again).
        var transferEncodingCount = 0
        var transferEncodingIsChunked = false
    }

    static func facts(of headers: HTTPHeaders) -> RequestFacts {
        var facts = RequestFacts()
        for (name, value) in headers {
            switch role(of: name) {
            case .host:
                facts.hostCount += 1
                if facts.host == nil { facts.host = value }
            case .contentLength: facts.contentLength = value
            case .expect: facts.expectsContinue = value.lowercased() == "100-continue"
            case .upgrade: facts.upgrade = value
            case .connection: if connectionTokens(value).contains("upgrade") { facts.connectionUpgrade = true }
            case .transferEncoding:
                facts.transferEncodingCount += 1
                let coding = value[...].trimmingSpaces()
                facts.transferEncodingIsChunked = coding.count == 7 && coding.lowercased() == "chunked"
            default: break
            }
        }
        return facts
    }

    /// The head sent upstream: hop-by-hop headers gone, `X-Forwarded-*` and `X-Request-ID`
    /// set, the request's own body framing kept. `Host` passes through unchanged.
    static func upstreamRequest(
        _ head: HTTPRequestHead, clientAddress: String?, trustedPeer: Bool, scheme: String, upgrade: String? = nil,
        requestID: () -> String
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 4)
        var named: [String] = []
        var chunked = false
        var hasLength = false
        var host: String?
        var hasRequestID = false
        var forwardedFor: String?
        var forwardedProto: String?
        var forwardedHost: String?
        for (name, value) in head.headers {
            switch role(of: name) {
            case .hopByHop, .upgrade, .expect:
                // `Expect: 100-continue` is answered by the proxy itself (see ProxyHandler).
                continue
            case .connection:
                named += connectionTokens(value)
                continue
            case .transferEncoding:
                chunked = isChunked(value)
                continue
            case .forwardedFor:
                if trustedPeer { forwardedFor = forwardedFor.map { "\($0), \(value)" } ?? value }
                continue
            case .forwardedProto:
                if trustedPeer { forwardedProto = value }
                continue
            case .forwardedHost:
                if trustedPeer { forwardedHost = value }
                continue
            case .contentLength: hasLength = true
            case .host: host = value
            case .requestID: hasRequestID = true
            case .other: break
            }
            headers.add(name: name, value: value)
        }
        if chunked && !hasLength { headers.add(name: "transfer-encoding", value: "chunked") }
        if let clientAddress {
            headers.add(name: "x-forwarded-for", value: forwardedFor.map { "\($0), \(clientAddress)" } ?? clientAddress)
        } else if let forwardedFor {
            headers.add(name: "x-forwarded-for", value: forwardedFor)
        }
        headers.add(name: "x-forwarded-proto", value: forwardedProto ?? scheme)
        if let value = forwardedHost ?? host { headers.add(name: "x-forwarded-host", value: value) }
        if !hasRequestID { headers.add(name: "x-request-id", value: requestID()) }
        for name in named where role(of: name) == .other { headers.remove(name: name) }
        if let upgrade {
            // The one hop-by-hop exchange that must cross: the upstream decides on the switch.
            headers.add(name: "connection", value: "upgrade")
            headers.add(name: "upgrade", value: upgrade)
        }
        // Upstream connections are always HTTP/1.1 keep-alive, whatever the client spoke.
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// The head sent to the client: hop-by-hop headers gone; `Connection: close` when this
    /// is the connection's last response.
    static func clientResponse(_ head: HTTPResponseHead, keepAlive: Bool, clientVersion: HTTPVersion) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 1)
        var named: [String] = []
        var chunked = false
        var hasLength = false
        for (name, value) in head.headers {
            switch role(of: name) {
            case .hopByHop, .upgrade:
                continue
            case .connection:
                named += connectionTokens(value)
                continue
            case .transferEncoding:
                chunked = isChunked(value)
                continue
            case .contentLength: hasLength = true
            default: break
            }
            headers.add(name: name, value: value)
        }
        if chunked, !hasLength, clientVersion != .http1_0 {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        for name in named where role(of: name) == .other { headers.remove(name: name) }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if clientVersion == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
