import NIOHPACK

/// The checks RFC 9113 §8.2–8.3 asks of a request's header block (and of a trailer block)
/// before anything of it reaches an HTTP/1.1 upstream: a block that fails is malformed, and
/// its stream is reset with PROTOCOL_ERROR (§8.1.1). These are the checks NIOHTTP2 made
/// while it framed the connection.
enum HTTP2RequestFields {
    struct Facts {
        /// The `content-length` field, when there is one: what the DATA frames must add up to.
        var contentLength: Int?
    }

    /// nil: the block is malformed.
    static func validateRequest(_ headers: HPACKHeaders) -> Facts? {
        var facts = Facts()
        var inPseudo = true
        var method: String?
        var hasScheme = false
        var hasPath = false
        var hasAuthority = false
        for (name, value, _) in headers {
            if name.utf8.first == UInt8(ascii: ":") {
                // Pseudo-header fields come first, once each (§8.3).
                guard inPseudo, isPseudoValue(value) else { return nil }
                switch name {
                case ":method":
                    guard method == nil, !value.isEmpty else { return nil }
                    method = value
                case ":scheme":
                    guard !hasScheme else { return nil }
                    hasScheme = true
                case ":path":
                    guard !hasPath, !value.isEmpty else { return nil }
                    hasPath = true
                case ":authority":
                    guard !hasAuthority else { return nil }
                    hasAuthority = true
                default:
                    // Includes :protocol: extended CONNECT is not offered (no SETTINGS_ENABLE_CONNECT_PROTOCOL).
                    return nil
                }
                continue
            }
            inPseudo = false
            guard isRegularField(name, value) else { return nil }
            switch name {
            case "te":
                guard value == "trailers" else { return nil }
            case "content-length":
                guard let length = contentLength(value), facts.contentLength == nil || facts.contentLength == length else { return nil }
                facts.contentLength = length
            default:
                break
            }
        }
        guard let method else { return nil }
        if method == "CONNECT" {
            // §8.5: :authority only.
            guard hasAuthority, !hasScheme, !hasPath else { return nil }
        } else {
            guard hasScheme, hasPath else { return nil }
        }
        return facts
    }

    /// Trailers: regular fields only (§8.1).
    static func validateTrailers(_ headers: HPACKHeaders) -> Bool {
        for (name, value, _) in headers {
            guard name.utf8.first != UInt8(ascii: ":"), isRegularField(name, value) else { return false }
        }
        return true
    }

    /// A lower-case token that is not connection-specific (§8.2.2), and a value without NUL,
    /// CR or LF (§8.2.1).
    private static func isRegularField(_ name: String, _ value: String) -> Bool {
        guard !name.isEmpty, name.utf8.allSatisfy({ RawHead.isTokenByte($0) && !($0 >= 0x41 && $0 <= 0x5A) }) else {
            return false
        }
        switch name {
        case "connection", "transfer-encoding", "proxy-connection", "keep-alive", "upgrade": return false
        default: break
        }
        return value.utf8.allSatisfy { $0 != 0 && $0 != 0x0A && $0 != 0x0D }
    }

    /// Pseudo-header values are what HTTP/1.1 puts in a request line: no space or control byte.
    private static func isPseudoValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F }
    }

    private static func contentLength(_ value: String) -> Int? {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(value)
    }
}
