extension TOMLParser.Parser {
    /// `YYYY-MM-DD` (digits and dashes only; ranges are checked later).
    static func isFullDate(_ token: ArraySlice<UInt8>) -> Bool {
        guard token.count == 10 else { return false }
        for (offset, byte) in token.enumerated() {
            let ok = offset == 4 || offset == 7 ? byte == UInt8(ascii: "-") : isDigit(byte)
            if !ok { return false }
        }
        return true
    }

    /// Checks an RFC 3339 offset date-time, local date-time, local date or local time.
    /// The token is ASCII and on one line, so offsets within it are column offsets.
    static func validateDateTime(_ token: ArraySlice<UInt8>, at location: SourceLocation) throws(TOMLParseError) {
        let text = String(decoding: token, as: UTF8.self)
        let chars = Array(token)
        let hasDate = chars.count >= 5 && chars[4] == UInt8(ascii: "-")
        let isTime = !hasDate && chars.count >= 3 && chars[2] == UInt8(ascii: ":")
        let kind = isTime ? "time" : hasDate && chars.count == 10 ? "date" : "date-time"
        let example = "dates are written 1979-05-27, times 07:32:00, and date-times 1979-05-27T07:32:00Z"
        func failure(_ reason: String, at offset: Int, hint: String? = nil) -> TOMLParseError {
            TOMLParseError(
                message: "invalid \(kind) '\(text)': \(reason)",
                location: SourceLocation(line: location.line, column: location.column + offset),
                hint: hint)
        }
        /// The number written with exactly `count` digits at `offset`.
        func digits(_ offset: Int, _ count: Int, _ name: String) throws(TOMLParseError) -> Int {
            var value = 0
            for index in offset..<(offset + count) {
                guard index < chars.count, isDigit(chars[index]) else {
                    throw failure("the \(name) must be \(count) digits", at: min(index, chars.count), hint: example)
                }
                value = value * 10 + Int(chars[index] - UInt8(ascii: "0"))
            }
            return value
        }
        func expect(_ byte: UInt8, at offset: Int, _ what: String) throws(TOMLParseError) {
            guard offset < chars.count, chars[offset] == byte else {
                throw failure("expected \(what)", at: offset, hint: example)
            }
        }

        var index = 0
        if hasDate {
            let year = try digits(0, 4, "year")
            try expect(UInt8(ascii: "-"), at: 4, "'-' after the year")
            let month = try digits(5, 2, "month")
            try expect(UInt8(ascii: "-"), at: 7, "'-' after the month")
            let day = try digits(8, 2, "day")
            guard (1...12).contains(month) else { throw failure("month \(month) does not exist", at: 5) }
            let lastDay = daysIn(month: month, year: year)
            guard (1...lastDay).contains(day) else {
                throw failure("day \(day) does not exist (\(monthNames[month - 1]) \(year) has \(lastDay) days)", at: 8)
            }
            index = 10
            if index == chars.count { return }
            let separator = chars[index]
            guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == 0x20 else {
                throw failure("expected 'T' or a space between the date and the time", at: index, hint: example)
            }
            index += 1
        } else if !isTime {
            throw failure("not a date or time", at: 0, hint: example)
        }

        let hour = try digits(index, 2, "hour")
        try expect(UInt8(ascii: ":"), at: index + 2, "':' after the hour")
        let minute = try digits(index + 3, 2, "minute")
        try expect(UInt8(ascii: ":"), at: index + 5, "':' after the minute (seconds are required)")
        let second = try digits(index + 6, 2, "second")
        guard hour < 24 else { throw failure("hour \(hour) does not exist", at: index) }
        guard minute < 60 else { throw failure("minute \(minute) does not exist", at: index + 3) }
        guard second <= 60 else { throw failure("second \(second) does not exist", at: index + 6) }
        index += 8
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < chars.count, isDigit(chars[index]) { index += 1 }
            if index == fractionStart {
                throw failure("expected digits after the decimal point", at: index)
            }
        }
        if index == chars.count { return }
        guard hasDate else {
            throw failure("a time without a date cannot have a time zone or anything after it", at: index)
        }
        switch chars[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let offsetHour = try digits(index + 1, 2, "offset hour")
            try expect(UInt8(ascii: ":"), at: index + 3, "':' in the time zone offset")
            let offsetMinute = try digits(index + 4, 2, "offset minute")
            guard offsetHour < 24 else { throw failure("offset hour \(offsetHour) does not exist", at: index + 1) }
            guard offsetMinute < 60 else {
                throw failure("offset minute \(offsetMinute) does not exist", at: index + 4)
            }
            index += 6
        default:
            throw failure("expected 'Z' or an offset such as +09:00 after the time", at: index, hint: example)
        }
        if index < chars.count {
            throw failure("unexpected '\(Character(Unicode.Scalar(chars[index])))' after the time zone", at: index)
        }
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }
}
