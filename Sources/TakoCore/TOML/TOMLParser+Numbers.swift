extension TOMLParser.Parser {
    /// A value starting with a digit, `+` or `-`: an integer, a float or a date/time.
    mutating func parseNumberOrDateTime() throws(TOMLParseError) -> TOMLValue {
        let start = pos
        let startLocation = location()
        skipValueToken()
        // A date followed by a space and a time is one date-time: `1979-05-27 07:32:00`.
        if pos - start == 10, Self.isFullDate(bytes[start..<pos]), peek() == 0x20, let next = peek(1),
            Self.isDigit(next) {
            pos += 1
            skipValueToken()
        }
        let token = bytes[start..<pos]
        if Self.looksLikeDateTime(token) {
            try Self.validateDateTime(token, at: startLocation)
            return .datetime(String(decoding: token, as: UTF8.self))
        }
        return try Self.number(token, at: startLocation)
    }

    private mutating func skipValueToken() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"),
                UInt8(ascii: "."), UInt8(ascii: ":"):
                pos += 1
            default:
                return
            }
        }
    }

    /// A token with a `:`, or a `-` right after a digit, is meant as a date or time.
    static func looksLikeDateTime(_ token: ArraySlice<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in token {
            if byte == UInt8(ascii: ":") { return true }
            if byte == UInt8(ascii: "-"), isDigit(previous) { return true }
            previous = byte
        }
        return false
    }

    /// Parses an integer or float token. Tokens are ASCII and on one line, so a character's
    /// column is the token's column plus its offset.
    static func number(_ token: ArraySlice<UInt8>, at location: SourceLocation) throws(TOMLParseError) -> TOMLValue {
        let text = String(decoding: token, as: UTF8.self)
        func failure(_ reason: String, hint: String? = nil) -> TOMLParseError {
            TOMLParseError(message: "invalid number '\(text)': \(reason)", location: location, hint: hint)
        }
        var rest = token
        var sign: UInt8?
        if let first = rest.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first
            rest = rest.dropFirst()
        }
        let negative = sign == UInt8(ascii: "-")
        if rest.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if rest.elementsEqual("nan".utf8) { return .float(negative ? -.nan : .nan) }
        guard let first = rest.first else { throw failure("expected digits after the sign") }
        guard isDigit(first) else {
            if first == UInt8(ascii: ".") {
                throw failure("a float needs a digit before the decimal point", hint: "write 0.5, not .5")
            }
            throw failure("expected a digit, found '\(Character(Unicode.Scalar(first)))'")
        }

        // 0x, 0o, 0b
        if first == UInt8(ascii: "0"), rest.count >= 2 {
            let prefix = rest[rest.startIndex + 1]
            let radix: UInt8? = switch prefix {
            case UInt8(ascii: "x"), UInt8(ascii: "X"): 16
            case UInt8(ascii: "o"), UInt8(ascii: "O"): 8
            case UInt8(ascii: "b"), UInt8(ascii: "B"): 2
            default: nil
            }
            if let radix {
                if prefix < UInt8(ascii: "a") {
                    throw failure("base prefixes are lowercase", hint: "use 0x, 0o or 0b")
                }
                if sign != nil {
                    throw failure("hexadecimal, octal and binary integers cannot have a sign")
                }
                let digits = try digitRun(rest.dropFirst(2), radix: radix, failure: failure)
                var value: Int64 = 0
                for digit in digits {
                    let (shifted, overflow1) = value.multipliedReportingOverflow(by: Int64(radix))
                    let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit))
                    guard !overflow1, !overflow2 else { throw outOfRange(text, at: location) }
                    value = sum
                }
                return .integer(value)
            }
        }

        // Split into integer part, fraction and exponent.
        var intEnd = rest.startIndex
        while intEnd < rest.endIndex, rest[intEnd] != UInt8(ascii: "."), rest[intEnd] != UInt8(ascii: "e"),
            rest[intEnd] != UInt8(ascii: "E") {
            intEnd += 1
        }
        let intDigits = try digitRun(rest[..<intEnd], radix: 10, failure: failure)
        if intDigits.count > 1, intDigits.first == 0 {
            throw failure("leading zeros are not allowed", hint: "write the number without leading zeros, or quote it as a string")
        }
        if intEnd == rest.endIndex {
            var value: Int64 = 0
            // Accumulate negatively so Int64.min fits.
            for digit in intDigits {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (difference, overflow2) = shifted.subtractingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { throw outOfRange(text, at: location) }
                value = difference
            }
            if !negative {
                let (positive, overflow) = Int64(0).subtractingReportingOverflow(value)
                guard !overflow else { throw outOfRange(text, at: location) }
                value = positive
            }
            return .integer(value)
        }

        var cleaned = negative ? "-" : ""
        cleaned += intDigits.map(String.init).joined()
        var index = intEnd
        if rest[index] == UInt8(ascii: ".") {
            index += 1
            var fractionEnd = index
            while fractionEnd < rest.endIndex, rest[fractionEnd] != UInt8(ascii: "e"),
                rest[fractionEnd] != UInt8(ascii: "E") {
                fractionEnd += 1
            }
            if index == fractionEnd {
                throw failure("a decimal point must be followed by digits", hint: "write 1.0, not 1.")
            }
            let fraction = try digitRun(rest[index..<fractionEnd], radix: 10, failure: failure)
            cleaned += "." + fraction.map(String.init).joined()
            index = fractionEnd
        }
        if index < rest.endIndex {
            // At 'e' or 'E'.
            index += 1
            cleaned += "e"
            if index < rest.endIndex, rest[index] == UInt8(ascii: "+") || rest[index] == UInt8(ascii: "-") {
                if rest[index] == UInt8(ascii: "-") { cleaned += "-" }
                index += 1
            }
            if index == rest.endIndex { throw failure("an exponent must have digits") }
            let exponent = try digitRun(rest[index...], radix: 10, failure: failure)
            cleaned += exponent.map(String.init).joined()
        }
        guard let value = Double(cleaned) else { throw failure("not a valid float") }
        guard value.isFinite else {
            throw TOMLParseError(message: "float '\(text)' is too large", location: location,
                                 hint: "write inf for an infinite value")
        }
        return .float(value)
    }

    private static func outOfRange(_ text: String, at location: SourceLocation) -> TOMLParseError {
        TOMLParseError(
            message: "integer '\(text)' does not fit in 64 bits",
            location: location,
            hint: "integers must be between -9223372036854775808 and 9223372036854775807")
    }

    /// Checks `DIGIT *( [_] DIGIT )` and returns the digit values.
    private static func digitRun(
        _ run: ArraySlice<UInt8>, radix: UInt8, failure: (String, String?) -> TOMLParseError
    ) throws(TOMLParseError) -> [UInt8] {
        var digits: [UInt8] = []
        digits.reserveCapacity(run.count)
        var previousWasDigit = false
        for byte in run {
            if byte == UInt8(ascii: "_") {
                guard previousWasDigit else { throw failure("an underscore must be between two digits", nil) }
                previousWasDigit = false
                continue
            }
            guard let value = hexValue(byte), value < radix else {
                let name = radix == 10 ? "a" : radix == 16 ? "a hexadecimal" : radix == 8 ? "an octal" : "a binary"
                throw failure("'\(Character(Unicode.Scalar(byte)))' is not \(name) digit", nil)
            }
            digits.append(value)
            previousWasDigit = true
        }
        if digits.isEmpty { throw failure("expected digits", nil) }
        guard previousWasDigit else { throw failure("an underscore must be between two digits", nil) }
        return digits
    }
}
