import NIOCore

/// Writes the heads the fast path sends, from heads parsed in place (`RawHead`): the lines it
/// keeps are copied as runs of bytes, the few it changes are written fresh. The rules are
/// `HeaderRewriter`'s (hop-by-hop headers dropped, `X-Forwarded-*` and `X-Request-ID` set).
enum RawHeadWriter {
    /// The request head for the upstream: always HTTP/1.1 keep-alive.
    static func upstreamRequest(
        _ head: RawRequestHead, lines: [RawHeaderLine], from bytes: UnsafeRawBufferPointer, allocator: ByteBufferAllocator,
        clientAddress: String, trustedPeer: Bool, scheme: String, requestIDs: RequestIDGenerator
    ) -> ByteBuffer {
        let keepsForwarded = trustedPeer && head.hasForwarded
        // The request line and the kept lines are no longer than the client's head; a trusted
        // peer's forwarded values, all together, are not either.
        let maximumLength =
            head.length * (keepsForwarded ? 2 : 1) + (head.hostEnd - head.hostStart) + clientAddress.utf8.count
            + scheme.utf8.count + 128
        return allocator.head(maximumLength: maximumLength) { out in
            out.append(bytes, 0..<head.targetEnd)
            out.append(" HTTP/1.1\r\n")
            copyLines(lines, from: bytes, headEnd: head.length - 2, into: &out) { line in
                switch line.role {
                case .hopByHop, .connection, .forwardedFor, .forwardedProto, .forwardedHost: false
                default: true
                }
            }
            out.append("x-forwarded-for: ")
            var forwardedProto: Range<Int>?
            var forwardedHost: Range<Int>?
            if keepsForwarded {
                for line in lines {
                    switch line.role {
                    case .forwardedFor:
                        out.append(bytes, line.valueStart..<line.valueEnd)
                        out.append(", ")
                    case .forwardedProto: forwardedProto = line.valueStart..<line.valueEnd
                    case .forwardedHost: forwardedHost = line.valueStart..<line.valueEnd
                    default: break
                    }
                }
            }
            out.append(clientAddress)
            out.append("\r\nx-forwarded-proto: ")
            if let forwardedProto {
                out.append(bytes, forwardedProto)
            } else {
                out.append(scheme)
            }
            out.append("\r\nx-forwarded-host: ")
            out.append(bytes, forwardedHost ?? head.hostStart..<head.hostEnd)
            if !head.hasRequestID {
                out.append("\r\nx-request-id: ")
                requestIDs.write(into: &out)
            }
            out.append("\r\n\r\n")
        }
    }

    /// The response head for the client: its HTTP version, hop-by-hop headers gone,
    /// `Connection` saying what happens to the connection; then the first `body` bytes that
    /// follow the head in `bytes` (a small body is one write with its head, not two).
    static func clientResponse(
        _ head: RawResponseHead, lines: [RawHeaderLine], from bytes: UnsafeRawBufferPointer, allocator: ByteBufferAllocator,
        clientIsHTTP10: Bool, keepAlive: Bool, chunked: Bool, body: Int = 0
    ) -> ByteBuffer {
        // The status line keeps its length; kept lines are no longer than the upstream's.
        let maximumLength = head.length + 64 + body
        return allocator.head(maximumLength: maximumLength) { out in
            out.append(clientIsHTTP10 ? "HTTP/1.0 " : "HTTP/1.1 ")
            let statusLineEnd = lines.first?.start ?? head.length - 2
            out.append(bytes, head.statusStart..<statusLineEnd)
            let named = head.connectionNamesHeaders ? connectionTokens(lines, from: bytes) : []
            copyLines(lines, from: bytes, headEnd: head.length - 2, into: &out) { line in
                reachesClient(line, named: named, in: bytes)
            }
            if chunked { out.append("transfer-encoding: chunked\r\n") }
            if !keepAlive {
                out.append("connection: close\r\n")
            } else if clientIsHTTP10 {
                out.append("connection: keep-alive\r\n")
            }
            out.append("\r\n")
            out.append(bytes, head.length..<head.length + body)
        }
    }

    /// Whether a response header line reaches the client: not hop-by-hop, not named by
    /// `Connection` (`named`, from `connectionTokens`). Framing is the proxy's own to say.
    static func reachesClient(_ line: RawHeaderLine, named: [Range<Int>], in bytes: UnsafeRawBufferPointer) -> Bool {
        switch line.role {
        case .hopByHop, .upgrade, .connection, .transferEncoding: false
        case .other: named.isEmpty || !named.contains { name(of: line, in: bytes, equals: $0) }
        default: true
        }
    }

    /// Copies the lines `keep` accepts, in runs: a head whose lines are all kept is one copy.
    private static func copyLines(
        _ lines: [RawHeaderLine], from bytes: UnsafeRawBufferPointer, headEnd: Int, into out: inout HeadBytes,
        keep: (RawHeaderLine) -> Bool
    ) {
        var runStart = lines.first?.start ?? headEnd
        for line in lines where !keep(line) {
            if line.start > runStart { out.append(bytes, runStart..<line.start) }
            runStart = line.next
        }
        if headEnd > runStart { out.append(bytes, runStart..<headEnd) }
    }

    /// The header names a response's `Connection` lines list.
    static func connectionTokens(_ lines: [RawHeaderLine], from bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        for line in lines where line.role == .connection {
            let value = UnsafeRawBufferPointer(rebasing: bytes[line.valueStart..<line.valueEnd])
            RawHead.forEachToken(value) { token in
                let start = token.baseAddress! - bytes.baseAddress!
                tokens.append(start..<start + token.count)
            }
        }
        return tokens
    }

    /// Whether a line's name is the token at `token` (both within `bytes`), ignoring case.
    private static func name(of line: RawHeaderLine, in bytes: UnsafeRawBufferPointer, equals token: Range<Int>) -> Bool {
        var end = line.start
        while bytes[end] != 0x3A { end += 1 }
        guard end - line.start == token.count else { return false }
        for offset in 0..<token.count {
            var left = bytes[line.start + offset]
            var right = bytes[token.lowerBound + offset]
            if left >= 0x41 && left <= 0x5A { left += 32 }
            if right >= 0x41 && right <= 0x5A { right += 32 }
            if left != right { return false }
        }
        return true
    }
}
