extension TOMLParser.Parser {
    // MARK: Errors

    mutating func errorHere(_ message: String, hint: String? = nil) -> TOMLParseError {
        TOMLParseError(message: message, location: location(), hint: hint)
    }

    mutating func loneCarriageReturn() -> TOMLParseError {
        errorHere("a carriage return must be followed by a line feed",
                  hint: "save the file with LF or CRLF line endings")
    }

    func tooDeep(at location: SourceLocation) -> TOMLParseError {
        TOMLParseError(
            message: "tables and arrays are nested more than \(TOMLParser.maxNestingDepth) levels deep",
            location: location)
    }

    /// Names the character at `index` for an error message: `'x'`, `end of line`, `end of file`…
    func describe(_ index: Int) -> String {
        guard index >= 0, index < bytes.count else { return "end of file" }
        let byte = bytes[index]
        switch byte {
        case 0x0A:
            return "end of line"
        case 0x0D:
            return index + 1 < bytes.count && bytes[index + 1] == 0x0A ? "end of line" : "a carriage return"
        case 0x09:
            return "a tab"
        case 0x20:
            return "a space"
        case UInt8(ascii: "'"):
            return "\"'\""
        case 0x21..<0x7F:
            return "'\(Character(Unicode.Scalar(byte)))'"
        case 0..<0x20, 0x7F:
            return "control character \(Self.codePoint(UInt32(byte)))"
        default:
            guard let scalar = scalar(at: index) else { return "an invalid character" }
            let code = Self.codePoint(scalar.value)
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
                || scalar.properties.generalCategory == .control {
                return code
            }
            return "'\(Character(scalar))' (\(code))"
        }
    }

    /// Decodes the UTF-8 scalar starting at `index`.
    func scalar(at index: Int) -> Unicode.Scalar? {
        guard index >= 0, index < bytes.count else { return nil }
        let first = bytes[index]
        let length: Int
        var value: UInt32
        switch first {
        case 0..<0x80: return Unicode.Scalar(first)
        case 0xC0..<0xE0: length = 2; value = UInt32(first & 0x1F)
        case 0xE0..<0xF0: length = 3; value = UInt32(first & 0x0F)
        case 0xF0..<0xF8: length = 4; value = UInt32(first & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            value = value << 6 | UInt32(bytes[index + offset] & 0x3F)
        }
        return Unicode.Scalar(value)
    }

    // MARK: Character classes

    static func isBareKeyChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func isKeyStart(_ byte: UInt8) -> Bool {
        isBareKeyChar(byte) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Control characters other than tab: not allowed in strings or comments.
    static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09) || byte == 0x7F
    }

    // MARK: Formatting

    /// `U+000C`.
    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A key path as it could be written: `a.b`, `"my key".c`.
    static func display(_ key: [TOMLParser.Key]) -> String {
        display(key.map(\.name))
    }

    static func display(_ path: [String]) -> String {
        path.map { name in
            let bare = !name.isEmpty && name.utf8.allSatisfy(isBareKeyChar)
            return bare ? name : "\"" + escaped(name) + "\""
        }.joined(separator: ".")
    }

    /// `text` escaped for use inside a basic string.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u" + String(codePoint(scalar.value).dropFirst(2))
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
