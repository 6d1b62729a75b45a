/// Reads the server name (SNI) from the first bytes of a TLS connection, before any TLS
/// library sees them, so the proxy can pick the certificate itself and refuse an unknown
/// name with the `unrecognized_name` alert (RFC 6066 §3). BoringSSL's certificate callback,
/// the only hook NIOSSL offers, can only fail with `internal_error`.
///
/// Bounded and allocation-light: it looks at most at `maxBytes` and never trusts a length
/// field beyond the bytes it has.
enum ClientHello {
    enum Result: Equatable {
        /// More bytes are needed.
        case incomplete
        /// A ClientHello; the name it asked for, lower-cased without a trailing dot (nil: no SNI).
        case complete(serverName: String?)
        /// Not a TLS ClientHello (plain HTTP on the HTTPS port, garbage, an oversized hello).
        case invalid
    }

    /// A ClientHello larger than this is refused (real ones are under 2 KiB; post-quantum key
    /// shares stay well below).
    static let maxBytes = 16 * 1024

    /// The fatal `unrecognized_name` alert, as a TLS 1.2 record (TLS 1.3 uses the same).
    static let unrecognizedNameAlert: [UInt8] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]

    static func parse(_ bytes: some Collection<UInt8>) -> Result {
        let bytes = Array(bytes.prefix(maxBytes + 5))
        // Gather the handshake message from as many records as it spans.
        var handshake: [UInt8] = []
        var offset = 0
        while true {
            guard bytes.count >= offset + 5 else { return .incomplete }
            guard bytes[offset] == 0x16, bytes[offset + 1] == 0x03 else { return .invalid }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard length > 0, length <= maxBytes else { return .invalid }
            guard bytes.count >= offset + 5 + length else {
                return bytes.count >= maxBytes ? .invalid : .incomplete
            }
            handshake += bytes[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
            guard handshake.count >= 4 else { continue }
            guard handshake[0] == 0x01 else { return .invalid }
            let messageLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
            guard messageLength <= maxBytes else { return .invalid }
            if handshake.count >= 4 + messageLength {
                return body(handshake[4..<(4 + messageLength)])
            }
        }
    }

    /// The ClientHello body: version, random, session id, cipher suites, compression methods,
    /// extensions.
    private static func body(_ hello: ArraySlice<UInt8>) -> Result {
        var reader = Reader(hello)
        guard reader.skip(2 + 32),
            let sessionID = reader.u8(), reader.skip(Int(sessionID)),
            let suites = reader.u16(), reader.skip(Int(suites)),
            let compression = reader.u8(), reader.skip(Int(compression))
        else { return .invalid }
        guard !reader.isAtEnd else { return .complete(serverName: nil) }  // no extensions at all
        guard let extensionsLength = reader.u16(), var extensions = reader.slice(Int(extensionsLength)) else { return .invalid }
        while !extensions.isAtEnd {
            guard let type = extensions.u16(), let length = extensions.u16(), var data = extensions.slice(Int(length)) else {
                return .invalid
            }
            guard type == 0 else { continue }
            // server_name_list: name_type 0 (host_name) with a 2-byte length.
            guard let listLength = data.u16(), var list = data.slice(Int(listLength)) else { return .invalid }
            while !list.isAtEnd {
                guard let nameType = list.u8(), let nameLength = list.u16(), let name = list.slice(Int(nameLength)) else {
                    return .invalid
                }
                guard nameType == 0 else { continue }
                return .complete(serverName: normalized(name.rest))
            }
            return .complete(serverName: nil)
        }
        return .complete(serverName: nil)
    }

    /// Lower-case ASCII without a trailing dot; nil for anything that is not a plausible
    /// host name (it then matches no certificate).
    private static func normalized(_ bytes: ArraySlice<UInt8>) -> String? {
        var name = Array(bytes)
        if name.last == UInt8(ascii: ".") { name.removeLast() }
        guard !name.isEmpty, name.count <= 253 else { return nil }
        for index in name.indices {
            let byte = name[index]
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): name[index] = byte + 32
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."): break
            default: return nil
            }
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// Reads big-endian fields from a slice, never past its end.
    private struct Reader {
        var rest: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

        var isAtEnd: Bool { rest.isEmpty }

        mutating func skip(_ count: Int) -> Bool {
            guard rest.count >= count else { return false }
            rest = rest.dropFirst(count)
            return true
        }

        mutating func u8() -> UInt8? {
            guard let byte = rest.first else { return nil }
            rest = rest.dropFirst()
            return byte
        }

        mutating func u16() -> UInt16? {
            guard rest.count >= 2 else { return nil }
            let value = UInt16(rest[rest.startIndex]) << 8 | UInt16(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
            return value
        }

        mutating func slice(_ count: Int) -> Reader? {
            guard rest.count >= count else { return nil }
            let slice = Reader(rest.prefix(count))
            rest = rest.dropFirst(count)
            return slice
        }
    }
}
