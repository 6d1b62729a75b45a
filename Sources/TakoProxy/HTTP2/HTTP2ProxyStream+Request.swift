import NIOCore
import NIOHPACK

extension HTTP2ProxyStream {
    /// An HTTP/2 request head, of a block `HTTP2RequestFields.validateRequest` accepted, that can
    /// be written as an HTTP/1.1 one as it is: the usual pseudo-headers, and fields that are
    /// valid HTTP/1.1 fields. nil for anything else (a
    /// `host` beside `:authority`, forwarded headers, connection-specific fields, extended
    /// CONNECT, a value with surrounding spaces, ...): the full path judges those.
    struct Request {
        let method: String
        let path: String
        let authority: String
        private var hasRequestID = false

        init?(_ headers: HPACKHeaders, maxTargetBytes: Int) {
            var method: String?
            var path: String?
            var authority: String?
            for (name, value, _) in headers {
                if name.utf8.first == UInt8(ascii: ":") {
                    switch name {
                    case ":method": method = value
                    case ":path": path = value
                    case ":authority": authority = value
                    case ":scheme": break
                    default: return nil
                    }
                    continue
                }
                // Names are lower-case tokens already (`HTTP2RequestFields.validateRequest`).
                guard Self.isFieldValue(value) else { return nil }
                switch HeaderRewriter.role(of: name) {
                case .connection, .upgrade, .transferEncoding, .expect, .host, .forwardedFor, .forwardedProto, .forwardedHost:
                    return nil
                case .requestID:
                    hasRequestID = true
                default:
                    break
                }
            }
            guard let method, let path, let authority, Self.isMethod(method), Self.isPath(path, max: maxTargetBytes),
                Self.isAuthority(authority)
            else { return nil }
            self.method = method
            self.path = path
            self.authority = authority
        }

        /// The HTTP/1.1 head for the upstream, with the proxy's `X-Forwarded-*` and
        /// `X-Request-ID`; `cookie` fields joined as HTTP/1.1 needs (RFC 9113 §8.2.3).
        func write(
            _ headers: HPACKHeaders, into out: inout ByteBuffer, clientAddress: String, scheme: String,
            requestIDs: RequestIDGenerator
        ) {
            out.writeString(method)
            out.writeStaticString(" ")
            out.writeString(path)
            out.writeStaticString(" HTTP/1.1\r\nhost: ")
            out.writeString(authority)
            out.writeStaticString("\r\n")
            var cookies = 0
            for (name, value, _) in headers where name.utf8.first != UInt8(ascii: ":") {
                if HeaderRewriter.role(of: name) == .hopByHop { continue }
                if name == "cookie" {
                    cookies += 1
                    continue
                }
                out.writeString(name)
                out.writeStaticString(": ")
                out.writeString(value)
                out.writeStaticString("\r\n")
            }
            if cookies > 0 {
                out.writeStaticString("cookie: ")
                for (index, value) in headers.values(forHeader: "cookie", canonicalForm: false).enumerated() {
                    if index > 0 { out.writeStaticString("; ") }
                    out.writeSubstring(value)
                }
                out.writeStaticString("\r\n")
            }
            out.writeStaticString("x-forwarded-for: ")
            out.writeString(clientAddress)
            out.writeStaticString("\r\nx-forwarded-proto: ")
            out.writeString(scheme)
            out.writeStaticString("\r\nx-forwarded-host: ")
            out.writeString(authority)
            if !hasRequestID {
                out.writeStaticString("\r\nx-request-id: ")
                requestIDs.write(into: &out)
            }
            out.writeStaticString("\r\n\r\n")
        }

        /// Field content without surrounding whitespace (RFC 9113 §8.2.1); obs-text passes.
        private static func isFieldValue(_ value: String) -> Bool {
            let bytes = value.utf8
            if let first = bytes.first, first == 0x20 || first == 0x09 { return false }
            if let last = bytes.last, last == 0x20 || last == 0x09 { return false }
            return bytes.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
        }

        private static func isMethod(_ method: String) -> Bool {
            (1...16).contains(method.utf8.count) && method.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A } && method != "CONNECT"
        }

        private static func isPath(_ path: String, max: Int) -> Bool {
            path.utf8.first == UInt8(ascii: "/") && path.utf8.count <= max && path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        }

        private static func isAuthority(_ authority: String) -> Bool {
            !authority.isEmpty
                && authority.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") && $0 != UInt8(ascii: "@") }
        }
    }
}
