extension TOMLParser.Parser {
    /// `"..."`, with escapes. The read position is at the opening quote.
    mutating func parseBasicString() throws(TOMLParseError) -> String {
        let start = location()
        pos += 1
        var buffer: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw errorHere("expected '\"' to close the string, found end of file",
                                hint: "the string starting at \(start) is not closed")
            }
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0x0A,
                 0x0D where peek(1) == 0x0A:
                throw errorHere("expected '\"' to close the string, found end of line",
                                hint: "close the string on the same line, or use \"\"\" for a multi-line string")
            default:
                if Self.isControl(byte) { throw controlInString(byte, escapable: true) }
                buffer.append(byte)
                pos += 1
            }
        }
    }

    /// `'...'`, taken as written. The read position is at the opening quote.
    mutating func parseLiteralString() throws(TOMLParseError) -> String {
        let start = location()
        pos += 1
        let contentStart = pos
        while true {
            guard let byte = peek() else {
                throw errorHere("expected \"'\" to close the string, found end of file",
                                hint: "the string starting at \(start) is not closed")
            }
            switch byte {
            case UInt8(ascii: "'"):
                let text = String(decoding: bytes[contentStart..<pos], as: UTF8.self)
                pos += 1
                return text
            case 0x0A,
                 0x0D where peek(1) == 0x0A:
                throw errorHere("expected \"'\" to close the string, found end of line",
                                hint: "close the string on the same line, or use ''' for a multi-line string")
            default:
                if Self.isControl(byte) { throw controlInString(byte, escapable: false) }
                pos += 1
            }
        }
    }

    /// `"""..."""`. The read position is at the first of the opening quotes.
    mutating func parseMultilineBasicString() throws(TOMLParseError) -> String {
        let startLine = line
        pos += 3
        _ = try consumeNewline()
        var buffer: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw errorHere("expected '\"\"\"' to close the multi-line string, found end of file",
                                hint: "the string starting on line \(startLine) is not closed")
            }
            switch byte {
            case UInt8(ascii: "\""):
                if try closeMultiline(quote: byte, into: &buffer) {
                    return String(decoding: buffer, as: UTF8.self)
                }
            case UInt8(ascii: "\\"):
                var ahead = pos + 1
                while ahead < bytes.count, bytes[ahead] == 0x20 || bytes[ahead] == 0x09 { ahead += 1 }
                if ahead < bytes.count, bytes[ahead] == 0x0A || bytes[ahead] == 0x0D {
                    // A line-ending backslash: drop it and all whitespace and newlines after it.
                    pos = ahead
                    while true {
                        skipWhitespace()
                        if try !consumeNewline() { break }
                    }
                } else {
                    try parseEscape(into: &buffer)
                }
            case 0x0A, 0x0D:
                _ = try consumeNewline()
                buffer.append(0x0A)
            default:
                if Self.isControl(byte) { throw controlInString(byte, escapable: true) }
                buffer.append(byte)
                pos += 1
            }
        }
    }

    /// `'''...'''`. The read position is at the first of the opening quotes.
    mutating func parseMultilineLiteralString() throws(TOMLParseError) -> String {
        let startLine = line
        pos += 3
        _ = try consumeNewline()
        var buffer: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw errorHere("expected \"'''\" to close the multi-line string, found end of file",
                                hint: "the string starting on line \(startLine) is not closed")
            }
            switch byte {
            case UInt8(ascii: "'"):
                if try closeMultiline(quote: byte, into: &buffer) {
                    return String(decoding: buffer, as: UTF8.self)
                }
            case 0x0A, 0x0D:
                _ = try consumeNewline()
                buffer.append(0x0A)
            default:
                if Self.isControl(byte) { throw controlInString(byte, escapable: false) }
                buffer.append(byte)
                pos += 1
            }
        }
    }

    /// At a run of quotes inside a multi-line string: three or more close it (up to two more
    /// belong to the content); fewer are content. Returns whether the string is closed.
    private mutating func closeMultiline(quote: UInt8, into buffer: inout [UInt8]) throws(TOMLParseError) -> Bool {
        var count = 0
        while peek(count) == quote { count += 1 }
        if count < 3 {
            buffer.append(contentsOf: repeatElement(quote, count: count))
            pos += count
            return false
        }
        guard count <= 5 else {
            pos += 5
            let delimiter = String(repeating: Character(Unicode.Scalar(quote)), count: 3)
            throw errorHere("expected end of multi-line string after \(delimiter), found \(describe(pos))",
                            hint: "at most two quotes may come right before the closing \(delimiter); escape the others")
        }
        buffer.append(contentsOf: repeatElement(quote, count: count - 3))
        pos += count
        return true
    }

    /// An escape sequence in a basic string. The read position is at the backslash.
    mutating func parseEscape(into buffer: inout [UInt8]) throws(TOMLParseError) {
        let start = location()
        pos += 1
        guard let byte = peek() else {
            throw errorHere("expected an escape character after '\\', found end of file")
        }
        let simple: UInt8?
        switch byte {
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "u"), UInt8(ascii: "U"): simple = nil
        default:
            if byte == 0x0A || byte == 0x0D {
                throw TOMLParseError(
                    message: "invalid escape sequence: '\\' at the end of a line in a single-line string",
                    location: start,
                    hint: "only multi-line strings (\"\"\"...\"\"\") can continue on the next line with '\\'")
            }
            let shown = (0x21..<0x7F).contains(byte)
                ? "'\\\(Character(Unicode.Scalar(byte)))'" : "'\\' followed by \(describe(pos))"
            throw TOMLParseError(
                message: "invalid escape sequence \(shown) in string", location: start,
                hint: "valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX and \\UXXXXXXXX; "
                    + "for backslashes taken as written, use a literal string: 'C:\\path'")
        }
        if let simple {
            buffer.append(simple)
            pos += 1
            return
        }
        let digits = byte == UInt8(ascii: "u") ? 4 : 8
        var value: UInt32 = 0
        for offset in 1...digits {
            guard let digit = peek(offset), let nibble = Self.hexValue(digit) else {
                throw TOMLParseError(
                    message: "escape '\\\(Character(Unicode.Scalar(byte)))' needs exactly \(digits) hexadecimal digits",
                    location: start)
            }
            value = value << 4 | UInt32(nibble)
        }
        guard let scalar = Unicode.Scalar(value) else {
            let written = String(decoding: bytes[(pos - 1)...(pos + digits)], as: UTF8.self)
            throw TOMLParseError(
                message: "escape '\(written)' is not a valid Unicode scalar value", location: start,
                hint: "surrogates (U+D800 to U+DFFF) and values above U+10FFFF cannot be escaped")
        }
        pos += 1 + digits
        UTF8.encode(scalar) { buffer.append($0) }
    }

    private mutating func controlInString(_ byte: UInt8, escapable: Bool) -> TOMLParseError {
        let code = Self.codePoint(UInt32(byte))
        let escape = "\\u" + code.dropFirst(2)
        let hint = escapable
            ? "write it as the escape \(escape)"
            : "use a basic string (\"...\") and write it as the escape \(escape)"
        if byte == 0x0D {
            return errorHere("a carriage return must be followed by a line feed",
                             hint: escapable ? "write it as the escape \\r" : hint)
        }
        return errorHere("control character \(code) is not allowed in a string", hint: hint)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
