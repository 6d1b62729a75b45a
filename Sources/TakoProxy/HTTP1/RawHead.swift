/// One header line of a head parsed in place: offsets into the head's bytes.
struct RawHeaderLine {
    /// Where the line starts (its name) and where the next line starts (after its CRLF).
    var start: Int
    var next: Int
    var valueStart: Int
    var valueEnd: Int
    var role: HeaderRewriter.Role
}

/// A request head the fast path forwards byte for byte (`FastProxyHandler`), parsed in place
/// by `RawHead.parseRequest`.
struct RawRequestHead {
    /// Bytes of the head, its final empty line included.
    var length = 0
    /// `GET /path` ends here: the request line up to its version.
    var targetEnd = 0
    var targetStart = 0
    var isHTTP10 = false
    var isHEAD = false
    var isIdempotent = false
    var hostStart = 0
    var hostEnd = 0
    var connectionClose = false
    var connectionKeepAlive = false
    var hasRequestID = false
    var hasForwarded = false

    /// Keep-alive as RFC 9112 §9.3 reads it.
    var keepAlive: Bool { isHTTP10 ? connectionKeepAlive && !connectionClose : !connectionClose }
}

/// A response head from an upstream, parsed in place by `RawHead.parseResponse`.
struct RawResponseHead {
    var length = 0
    /// Where the status code starts (after `HTTP/1.x `).
    var statusStart = 0
    var status = 0
    var isHTTP10 = false
    var contentLength: Int64?
    var chunked = false
    var connectionClose = false
    var connectionKeepAlive = false
    /// `Connection` names a header besides `close`/`keep-alive`: that header is dropped too.
    var connectionNamesHeaders = false

    /// The upstream connection may carry another request after this response.
    var keepAlive: Bool { isHTTP10 ? connectionKeepAlive && !connectionClose : !connectionClose }
}

/// The fast path's HTTP/1.1 head parser: strict, allocation-free, and deliberately narrow.
///
/// A request head outside the narrow subset (a body, `Transfer-Encoding`, `Upgrade`, `Expect`,
/// obs-fold, a bare LF, an absolute-form target, a second `Host`, ...) is not rejected here but
/// reported `unsupported`: the connection then moves to the full parser (NIO's llhttp and
/// `ProxyHandler`), which judges it exactly as before the fast path existed. Only heads that
/// are plainly valid are forwarded from here.
///
/// A response head outside the subset is `invalid`: the upstream is the user's own app, and
/// an answer that cannot be framed safely is a 502.
enum RawHead {
    enum Result<Head> {
        case incomplete
        /// Request: not for the fast path. Response: malformed.
        case unsupported
        case complete(Head)
    }

    // MARK: Requests

    static func parseRequest(
        _ bytes: UnsafeRawBufferPointer, lines: inout [RawHeaderLine], maxTargetBytes: Int
    ) -> Result<RawRequestHead> {
        lines.removeAll(keepingCapacity: true)
        var head = RawRequestHead()
        let count = bytes.count
        var index = 0
        // Method: upper-case letters, then one space.
        while index < count, bytes[index] >= 0x41, bytes[index] <= 0x5A { index += 1 }
        guard index < count else { return index > 16 ? .unsupported : .incomplete }
        guard index > 0, index <= 16, bytes[index] == 0x20 else { return .unsupported }
        let method = UnsafeRawBufferPointer(rebasing: bytes[0..<index])
        head.isHEAD = equals(method, "HEAD")
        head.isIdempotent =
            head.isHEAD || equals(method, "GET") || equals(method, "OPTIONS") || equals(method, "PUT")
            || equals(method, "DELETE") || equals(method, "TRACE")
        index += 1
        // Origin-form target: "/" then visible ASCII.
        head.targetStart = index
        guard index < count else { return .incomplete }
        guard bytes[index] == 0x2F else { return .unsupported }
        while index < count, bytes[index] > 0x20, bytes[index] < 0x7F { index += 1 }
        guard index - head.targetStart <= maxTargetBytes else { return .unsupported }
        guard index < count else { return .incomplete }
        guard bytes[index] == 0x20 else { return .unsupported }
        head.targetEnd = index
        index += 1
        switch version(bytes, at: index) {
        case .none: return .incomplete
        case .some(nil): return .unsupported
        case .some(let isHTTP10?): head.isHTTP10 = isHTTP10
        }
        index += 10
        var hostCount = 0
        let end = readLines(bytes, from: index, into: &lines) { line, value in
            switch line.role {
            case .upgrade, .transferEncoding, .expect:
                return false
            case .contentLength:
                // A body would need its own clock and limits: the full parser streams it.
                guard equals(value, "0") else { return false }
            case .connection:
                guard connectionOptions(value, close: &head.connectionClose, keepAlive: &head.connectionKeepAlive) else {
                    return false
                }
            case .host:
                hostCount += 1
                head.hostStart = line.valueStart
                head.hostEnd = line.valueEnd
            case .requestID:
                head.hasRequestID = true
            case .forwardedFor, .forwardedProto, .forwardedHost:
                head.hasForwarded = true
            case .hopByHop, .other:
                break
            }
            return true
        }
        switch end {
        case .incomplete: return .incomplete
        case .unsupported: return .unsupported
        case .complete(let length): head.length = length
        }
        // Exactly one Host (HTTP/1.0 without one goes to the full parser, as do duplicates).
        guard hostCount == 1 else { return .unsupported }
        return .complete(head)
    }

    // MARK: Responses

    static func parseResponse(_ bytes: UnsafeRawBufferPointer, lines: inout [RawHeaderLine]) -> Result<RawResponseHead> {
        lines.removeAll(keepingCapacity: true)
        var head = RawResponseHead()
        let count = bytes.count
        switch version(bytes, at: 0, terminator: 0x20) {
        case .none: return .incomplete
        case .some(nil): return .unsupported
        case .some(let isHTTP10?): head.isHTTP10 = isHTTP10
        }
        var index = 9
        head.statusStart = index
        guard index + 3 < count else { return .incomplete }
        for offset in 0..<3 {
            let digit = bytes[index + offset]
            guard digit >= 0x30, digit <= 0x39 else { return .unsupported }
            head.status = head.status * 10 + Int(digit - 0x30)
        }
        index += 3
        // Reason phrase: HTAB, SP, VCHAR, obs-text.
        while index < count, bytes[index] == 0x09 || bytes[index] >= 0x20 && bytes[index] != 0x7F { index += 1 }
        guard index + 1 < count else { return .incomplete }
        guard bytes[index] == 0x0D, bytes[index + 1] == 0x0A, head.status >= 100 else { return .unsupported }
        index += 2
        var transferEncodings = 0
        let end = readLines(bytes, from: index, into: &lines) { line, value in
            switch line.role {
            case .contentLength:
                guard let length = decimal(value), head.contentLength == nil || head.contentLength == length else {
                    return false
                }
                head.contentLength = length
            case .transferEncoding:
                transferEncodings += 1
                guard HeaderRewriter.matches(value, "chunked") else { return false }
                head.chunked = true
            case .connection:
                if !connectionOptions(value, close: &head.connectionClose, keepAlive: &head.connectionKeepAlive) {
                    head.connectionNamesHeaders = true
                }
            default:
                break
            }
            return true
        }
        switch end {
        case .incomplete: return .incomplete
        case .unsupported: return .unsupported
        case .complete(let length): head.length = length
        }
        // Both framings at once is how responses get smuggled: refuse it (RFC 9112 §6.3).
        guard transferEncodings <= 1, !(head.chunked && head.contentLength != nil) else { return .unsupported }
        return .complete(head)
    }

    // MARK: Pieces

    /// `HTTP/1.1` or `HTTP/1.0` followed by `terminator` (CRLF when it is CR): nil when more
    /// bytes are needed, `.some(nil)` when it is something else.
    private static func version(_ bytes: UnsafeRawBufferPointer, at index: Int, terminator: UInt8 = 0x0D) -> Bool?? {
        let length = terminator == 0x0D ? 10 : 9
        // The whole version at hand (the usual case): one word compare for `HTTP/1.`.
        if bytes.count - index >= length {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let minor = bytes[index + 7]
            guard word & 0x00FF_FFFF_FFFF_FFFF == 0x002E_312F_5054_5448, minor == 0x30 || minor == 0x31,
                bytes[index + 8] == terminator, terminator != 0x0D || bytes[index + 9] == 0x0A
            else { return .some(nil) }
            return .some(minor == 0x30)
        }
        let available = min(bytes.count - index, length)
        let expected: StaticString = "HTTP/1.1\r\n"
        for offset in 0..<available {
            let byte = bytes[index + offset]
            switch offset {
            case 7: guard byte == 0x30 || byte == 0x31 else { return .some(nil) }
            case 8: guard byte == terminator else { return .some(nil) }
            default: guard byte == expected.utf8Start[offset] else { return .some(nil) }
            }
        }
        guard available == length else { return nil }
        return .some(bytes[index + 7] == 0x30)
    }

    /// Reads header lines from `start` to the empty line that ends the head, appending each
    /// that `accept` takes (false: outside the subset) to `lines`. Complete: the head's length.
    private static func readLines(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into lines: inout [RawHeaderLine],
        _ accept: (RawHeaderLine, UnsafeRawBufferPointer) -> Bool
    ) -> Result<Int> {
        var index = start
        while true {
            guard index + 1 < bytes.count else { return .incomplete }
            if bytes[index] == 0x0D {
                guard bytes[index + 1] == 0x0A else { return .unsupported }
                return .complete(index + 2)
            }
            guard let line = headerLine(bytes, at: index) else { return .incomplete }
            guard let line, accept(line, UnsafeRawBufferPointer(rebasing: bytes[line.valueStart..<line.valueEnd])) else {
                return .unsupported
            }
            index = line.next
            lines.append(line)
        }
    }

    /// One `name: value CRLF` line (obs-text allowed in the value, passed on as it is): nil
    /// when incomplete, `.some(nil)` when outside the subset.
    private static func headerLine(_ bytes: UnsafeRawBufferPointer, at start: Int) -> RawHeaderLine?? {
        let count = bytes.count
        var index = start
        while index < count, isTokenByte(bytes[index]) { index += 1 }
        guard index < count else { return nil }
        guard index > start, bytes[index] == 0x3A else { return .some(nil) }
        let name = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        index += 1
        while index < count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        let valueStart = index
        // Eight bytes at a time while none is a control byte or DEL (most values are plain
        // text); the byte loop then judges the byte that stopped it (HTAB, CR, or invalid).
        while index + 8 <= count, !hasControlByte(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if byte == 0x0D { break }
            guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { return .some(nil) }
            index += 1
        }
        guard index + 1 < count else { return nil }
        guard bytes[index + 1] == 0x0A else { return .some(nil) }
        var valueEnd = index
        while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        let role = HeaderRewriter.role(of: name)
        return .some(RawHeaderLine(start: start, next: index + 2, valueStart: valueStart, valueEnd: valueEnd, role: role))
    }

    /// Reads a `Connection` value made only of `close` and `keep-alive`; false when it names
    /// anything else (a header to drop, `upgrade`).
    static func connectionOptions(_ value: UnsafeRawBufferPointer, close: inout Bool, keepAlive: inout Bool) -> Bool {
        var onlyOptions = true
        forEachToken(value) { token in
            if HeaderRewriter.matches(token, "close") {
                close = true
            } else if HeaderRewriter.matches(token, "keep-alive") {
                keepAlive = true
            } else {
                onlyOptions = false
            }
        }
        return onlyOptions
    }

    /// Calls `body` with each non-empty token of a comma-separated list, spaces trimmed.
    static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != 0x2C { end += 1 }
            var (from, to) = (start, end)
            while from < to, value[from] == 0x20 || value[from] == 0x09 { from += 1 }
            while to > from, value[to - 1] == 0x20 || value[to - 1] == 0x09 { to -= 1 }
            if to > from { body(UnsafeRawBufferPointer(rebasing: value[from..<to])) }
            start = end + 1
        }
    }

    /// A Content-Length value: digits only, at most 18 of them.
    private static func decimal(_ value: UnsafeRawBufferPointer) -> Int64? {
        guard !value.isEmpty, value.count <= 18 else { return nil }
        var result: Int64 = 0
        for byte in value {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result = result * 10 + Int64(byte - 0x30)
        }
        return result
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] != text.utf8Start[index] { return false }
        return true
    }

    /// Whether any of a word's eight bytes is below 0x20 or is 0x7F (bytes from 0x80, obs-text,
    /// are not). The two tests are the classic exact "has a byte less than" and "has a zero
    /// byte" ones; which lane set its bit does not matter, only whether one did.
    @inline(__always)
    static func hasControlByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- ones &* 0x20) & ~word & highs
        let del = word ^ (ones &* 0x7F)
        return (below | ((del &- ones) & ~del & highs)) != 0
    }

    /// tchar (RFC 9110 §5.6.2), as two 64-bit masks: constants, so the hot loop reads no
    /// global (a static table costs a `swift_once` check per call on Linux).
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_6CFA_0000_0000  // ! # $ % & ' * + - . 0-9
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE  // A-Z ^ _ ` a-z | ~
        if byte < 64 { return low >> UInt64(byte) & 1 == 1 }
        if byte < 128 { return high >> UInt64(byte - 64) & 1 == 1 }
        return false
    }
}
