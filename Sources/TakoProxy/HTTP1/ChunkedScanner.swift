/// Follows a chunked body (RFC 9112 §7.1) as its bytes stream past, without copying them: it
/// finds where the message ends and, for a client that cannot take chunks (HTTP/1.0), where
/// each chunk's data is.
struct ChunkedScanner {
    enum Result: Equatable {
        /// Every byte given belongs to the body; more are needed.
        case more
        /// The body ends after this many of the bytes given (the rest belongs to the next message).
        case end(at: Int)
        case invalid
    }

    private enum State {
        case sizeStart
        case size
        case extensions
        case sizeLF
        case data
        case dataCR
        case dataLF
        case trailerStart
        case trailer
        case trailerLF
        case finalLF
    }

    private var state = State.sizeStart
    private var remaining: Int64 = 0
    private var digits = 0

    init() {}

    /// Scans `bytes`; `onData` gets the ranges (within `bytes`) that are chunk data.
    mutating func scan(_ bytes: UnsafeRawBufferPointer, onData: (Range<Int>) -> Void = { _ in }) -> Result {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch state {
            case .sizeStart, .size:
                if let value = Self.hexValue(byte) {
                    digits += 1
                    // 15 hex digits is far beyond any body the proxy accepts, and cannot overflow.
                    guard digits <= 15 else { return .invalid }
                    remaining = remaining << 4 | Int64(value)
                    state = .size
                } else if state == .size, byte == 0x3B {
                    state = .extensions
                } else if state == .size, byte == 0x0D {
                    state = .sizeLF
                } else {
                    return .invalid
                }
                index += 1
            case .extensions:
                if byte == 0x0D {
                    state = .sizeLF
                } else if byte != 0x09 && (byte < 0x20 || byte == 0x7F) {
                    return .invalid
                }
                index += 1
            case .sizeLF:
                guard byte == 0x0A else { return .invalid }
                index += 1
                digits = 0
                state = remaining == 0 ? .trailerStart : .data
            case .data:
                let take = Int(min(remaining, Int64(count - index)))
                onData(index..<index + take)
                index += take
                remaining -= Int64(take)
                if remaining == 0 { state = .dataCR }
            case .dataCR:
                guard byte == 0x0D else { return .invalid }
                index += 1
                state = .dataLF
            case .dataLF:
                guard byte == 0x0A else { return .invalid }
                index += 1
                state = .sizeStart
            case .trailerStart:
                state = byte == 0x0D ? .finalLF : .trailer
                if byte == 0x0A { return .invalid }
                index += 1
            case .trailer:
                if byte == 0x0D {
                    state = .trailerLF
                } else if byte == 0x0A || (byte < 0x20 && byte != 0x09) {
                    return .invalid
                }
                index += 1
            case .trailerLF:
                guard byte == 0x0A else { return .invalid }
                index += 1
                state = .trailerStart
            case .finalLF:
                guard byte == 0x0A else { return .invalid }
                state = .sizeStart
                return .end(at: index + 1)
            }
        }
        return .more
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
