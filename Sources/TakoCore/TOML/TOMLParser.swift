/// A strict TOML 1.0.0 parser that records where every key, value and table is written.
///
/// Hostile input is safe to parse: arrays, inline tables, tables and dotted keys nest at most
/// ``maxNestingDepth`` levels, numbers that do not fit are errors rather than traps, and the
/// work done is linear in the size of the input.
///
/// Beyond the letter of the specification: a float literal too large to be a finite `Double`
/// (e.g. `1e400`) is an error, and newlines inside multi-line strings are normalized to LF.
public enum TOMLParser {
    /// The deepest that arrays, inline tables, tables and dotted keys may nest.
    static let maxNestingDepth = 128

    /// Parses a whole TOML document. A UTF-8 byte order mark at the start is skipped.
    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLDocument {
        var parser = Parser(text)
        return try parser.parseDocument()
    }
}

extension TOMLParser {
    /// One segment of a key, unquoted, with where it is written.
    struct Key {
        var name: String
        var location: SourceLocation
    }

    /// The state of one parse: the UTF-8 bytes, the read position and the current line.
    struct Parser {
        let bytes: [UInt8]
        var pos = 0
        var line = 1
        /// Index of the first byte of the current line.
        var lineStart = 0
        var headers: [TOMLDocument.Header] = []
        /// The last column computed, so columns on long lines are found in linear time overall.
        private var columnCache = (lineStart: -1, index: 0, column: 1)

        init(_ text: String) {
            bytes = Array(text.utf8)
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                pos = 3
                lineStart = 3
            }
        }

        // MARK: Reading

        func peek(_ offset: Int = 0) -> UInt8? {
            let index = pos + offset
            return index >= 0 && index < bytes.count ? bytes[index] : nil
        }

        /// The location of the byte at the read position.
        mutating func location() -> SourceLocation {
            let target = min(max(pos, lineStart), bytes.count)
            var from = lineStart
            var column = 1
            if columnCache.lineStart == lineStart, columnCache.index <= target {
                from = columnCache.index
                column = columnCache.column
            }
            var i = from
            while i < target {
                if bytes[i] & 0xC0 != 0x80 { column += 1 }
                i += 1
            }
            columnCache = (lineStart, target, column)
            return SourceLocation(line: line, column: column)
        }

        mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 { pos += 1 }
        }

        /// Consumes an LF or CRLF if one is next; a CR without an LF is an error.
        mutating func consumeNewline() throws(TOMLParseError) -> Bool {
            switch peek() {
            case 0x0A:
                pos += 1
            case 0x0D:
                guard peek(1) == 0x0A else { throw loneCarriageReturn() }
                pos += 2
            default:
                return false
            }
            line += 1
            lineStart = pos
            return true
        }

        /// Skips a comment starting at `#`, up to (not including) the end of the line.
        mutating func skipComment() throws(TOMLParseError) {
            pos += 1
            while let byte = peek() {
                if byte == 0x0A { return }
                if byte == 0x0D {
                    guard peek(1) == 0x0A else { throw loneCarriageReturn() }
                    return
                }
                if Self.isControl(byte) {
                    throw errorHere(
                        "control character \(Self.codePoint(UInt32(byte))) is not allowed in a comment")
                }
                pos += 1
            }
        }

        /// Skips spaces, tabs, comments and newlines, as allowed between array elements.
        mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLParseError) {
            while true {
                skipWhitespace()
                if peek() == UInt8(ascii: "#") { try skipComment() }
                if try !consumeNewline() { return }
            }
        }

        /// After a key/value pair or a header: optional whitespace and comment, then a newline
        /// or the end of the file.
        mutating func expectEndOfLine(after what: String) throws(TOMLParseError) {
            skipWhitespace()
            if peek() == UInt8(ascii: "#") { try skipComment() }
            if pos >= bytes.count { return }
            if try consumeNewline() { return }
            throw errorHere("expected end of line after \(what), found \(describe(pos))")
        }

        // MARK: Document

        mutating func parseDocument() throws(TOMLParseError) -> TOMLDocument {
            let root = TableBuilder(kind: .header, location: SourceLocation(line: 1, column: 1), depth: 0)
            var current = root
            while true {
                skipWhitespace()
                guard let byte = peek() else { break }
                switch byte {
                case UInt8(ascii: "#"):
                    try skipComment()
                    _ = try consumeNewline()
                case 0x0A, 0x0D:
                    _ = try consumeNewline()
                case UInt8(ascii: "["):
                    current = try parseTableHeader(root: root)
                    try expectEndOfLine(after: "table header")
                default:
                    guard Self.isKeyStart(byte) else {
                        let hint: String? = byte == UInt8(ascii: "=") ? "a key is missing before '='" : nil
                        throw errorHere(
                            "expected a key, a [table] header or a comment, found \(describe(pos))", hint: hint)
                    }
                    let key = try parseKeyValue(into: current, expecting: "a key")
                    try expectEndOfLine(after: "the value of '\(Self.display(key))'")
                }
            }
            return TOMLDocument(root: root.build(), headers: headers)
        }

        /// Parses `[a.b]` or `[[a.b]]` and returns the table that following keys go into.
        mutating func parseTableHeader(root: TableBuilder) throws(TOMLParseError) -> TableBuilder {
            let headerLocation = location()
            pos += 1
            let isArray = peek() == UInt8(ascii: "[")
            if isArray { pos += 1 }
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                throw errorHere("expected a table name, found ']'", hint: "a table header needs a name, e.g. [server]")
            }
            let expecting = isArray ? "a table name after '[['" : "a table name after '['"
            var hint: String?
            if !isArray, peek() == UInt8(ascii: "[") {
                hint = "an array of tables is written [[name]], with no space between the brackets"
            }
            let path = try parseKey(expecting: expecting, hint: hint)
            guard peek() == UInt8(ascii: "]") else {
                throw errorHere(
                    "expected '\(isArray ? "]]" : "]")' after table name '\(Self.display(path))', found \(describe(pos))")
            }
            pos += 1
            if isArray {
                guard peek() == UInt8(ascii: "]") else {
                    throw errorHere(
                        "expected ']]' to close array of tables header '\(Self.display(path))', found \(describe(pos))",
                        hint: "an array of tables is written [[name]], with no space between the brackets")
                }
                pos += 1
            }
            headers.append(TOMLDocument.Header(path: path.map(\.name), isArray: isArray, line: headerLocation.line))
            return try openTable(path: path, isArray: isArray, at: headerLocation, root: root)
        }

        // MARK: Keys

        /// Parses a simple or dotted key and the whitespace after it.
        mutating func parseKey(expecting: String, hint: String? = nil) throws(TOMLParseError) -> [Key] {
            var segments: [Key] = []
            var expected = expecting
            var expectedHint = hint
            while true {
                let start = location()
                let name = try parseSimpleKey(expecting: expected, hint: expectedHint)
                segments.append(Key(name: name, location: start))
                if segments.count > TOMLParser.maxNestingDepth {
                    throw tooDeep(at: start)
                }
                skipWhitespace()
                guard peek() == UInt8(ascii: ".") else { return segments }
                pos += 1
                skipWhitespace()
                expected = "a key after '.'"
                expectedHint = nil
            }
        }

        mutating func parseSimpleKey(expecting: String, hint: String?) throws(TOMLParseError) -> String {
            switch peek() {
            case UInt8(ascii: "\""):
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    throw errorHere("a multi-line string cannot be used as a key", hint: "quote keys with \"...\" or '...'")
                }
                return try parseBasicString()
            case UInt8(ascii: "'"):
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    throw errorHere("a multi-line string cannot be used as a key", hint: "quote keys with \"...\" or '...'")
                }
                return try parseLiteralString()
            case let byte? where Self.isBareKeyChar(byte):
                let start = pos
                while let byte = peek(), Self.isBareKeyChar(byte) { pos += 1 }
                return String(decoding: bytes[start..<pos], as: UTF8.self)
            default:
                var hint = hint
                if hint == nil, let byte = peek(), byte >= 0x80 {
                    hint = "keys with characters other than A-Z a-z 0-9 _ - must be quoted, e.g. \"key\" = 1"
                }
                throw errorHere("expected \(expecting), found \(describe(pos))", hint: hint)
            }
        }

        /// Parses `key = value` and adds it to `table`; returns the key.
        @discardableResult
        mutating func parseKeyValue(into table: TableBuilder, expecting: String) throws(TOMLParseError) -> [Key] {
            let key = try parseKey(expecting: expecting)
            guard peek() == UInt8(ascii: "=") else {
                let found = describe(pos)
                var hint: String?
                switch peek() {
                case nil, 0x0A, 0x0D, UInt8(ascii: "#"):
                    hint = "give the key a value, e.g. \(Self.display(key)) = \"value\""
                case UInt8(ascii: ":"):
                    hint = "TOML separates keys and values with '=', not ':'"
                case let byte? where Self.isKeyStart(byte):
                    hint = "keys containing spaces must be quoted, e.g. \"my key\" = 1"
                default:
                    hint = nil
                }
                throw errorHere("expected '=' after key '\(Self.display(key))', found \(found)", hint: hint)
            }
            pos += 1
            skipWhitespace()
            let node = try parseValue(depth: table.depth + key.count, key: key)
            try insert(node, at: key, into: table)
            return key
        }

        // MARK: Values

        /// Parses one value. `depth` is how deeply the value itself is nested.
        mutating func parseValue(depth: Int, key: [Key]?) throws(TOMLParseError) -> TOMLNode {
            let start = location()
            guard let byte = peek() else {
                throw errorHere("expected a value, found end of file", hint: valueHint(key: key))
            }
            let value: TOMLValue
            switch byte {
            case UInt8(ascii: "\""):
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    value = .string(try parseMultilineBasicString())
                } else {
                    value = .string(try parseBasicString())
                }
            case UInt8(ascii: "'"):
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    value = .string(try parseMultilineLiteralString())
                } else {
                    value = .string(try parseLiteralString())
                }
            case UInt8(ascii: "["):
                return try parseArray(depth: depth)
            case UInt8(ascii: "{"):
                return try parseInlineTable(depth: depth)
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                value = try parseNumberOrDateTime()
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                value = try parseWord(key: key)
            default:
                var hint = valueHint(key: key)
                if byte == UInt8(ascii: ".") {
                    hint = "a float needs a digit before the decimal point, e.g. 0.5"
                }
                throw errorHere("expected a value, found \(describe(pos))", hint: hint)
            }
            return TOMLNode(value: value, location: start)
        }

        /// Where an unquoted string written by mistake probably ends.
        private static func endsUnquotedText(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x0A, 0x0D, UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"): true
            default: false
            }
        }

        private func valueHint(key: [Key]?) -> String? {
            guard let key else { return nil }
            return "give the key a value, e.g. \(Self.display(key)) = \"value\""
        }

        /// `true`, `false`, `inf`, `nan`, or an unquoted word that should have been a string.
        mutating func parseWord(key: [Key]?) throws(TOMLParseError) -> TOMLValue {
            let start = pos
            let startLocation = location()
            while let byte = peek(), Self.isBareKeyChar(byte) || byte == UInt8(ascii: ".") { pos += 1 }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            switch word {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            case "inf": return .float(.infinity)
            case "nan": return .float(.nan)
            default: break
            }
            let hint: String
            switch word.lowercased() {
            case "true", "false", "yes", "no", "on", "off":
                hint = "booleans are written in lowercase: true or false"
            case "inf", "nan", "infinity":
                hint = "special floats are written in lowercase: inf, +inf, -inf or nan"
            default:
                var end = start
                while end < bytes.count, !Self.endsUnquotedText(bytes[end]) { end += 1 }
                var text = String(decoding: bytes[start..<end], as: UTF8.self)
                while text.last == " " || text.last == "\t" { text.removeLast() }
                if text.count > 60 { text = word }
                let quoted = "\"" + Self.escaped(text) + "\""
                hint = "strings must be quoted: " + (key.map { "\(Self.display($0)) = \(quoted)" } ?? quoted)
            }
            let what = key.map { "a value for key '\(Self.display($0))'" } ?? "a value"
            throw TOMLParseError(message: "expected \(what), found '\(word)'", location: startLocation, hint: hint)
        }

        mutating func parseArray(depth: Int) throws(TOMLParseError) -> TOMLNode {
            let start = location()
            guard depth <= TOMLParser.maxNestingDepth else { throw tooDeep(at: start) }
            pos += 1
            var elements: [TOMLNode] = []
            while true {
                try skipWhitespaceCommentsAndNewlines()
                if peek() == UInt8(ascii: "]") {
                    pos += 1
                    break
                }
                if pos >= bytes.count {
                    throw errorHere("expected a value or ']' in array, found end of file",
                                    hint: "the array opened on line \(start.line) is not closed")
                }
                elements.append(try parseValue(depth: depth + 1, key: nil))
                try skipWhitespaceCommentsAndNewlines()
                switch peek() {
                case UInt8(ascii: ","):
                    pos += 1
                case UInt8(ascii: "]"):
                    pos += 1
                    return TOMLNode(value: .array(elements), location: start)
                case nil:
                    throw errorHere("expected ',' or ']' in array, found end of file",
                                    hint: "the array opened on line \(start.line) is not closed")
                default:
                    throw errorHere("expected ',' or ']' after array element, found \(describe(pos))")
                }
            }
            return TOMLNode(value: .array(elements), location: start)
        }

        mutating func parseInlineTable(depth: Int) throws(TOMLParseError) -> TOMLNode {
            let start = location()
            guard depth <= TOMLParser.maxNestingDepth else { throw tooDeep(at: start) }
            pos += 1
            let table = TableBuilder(kind: .header, location: start, depth: depth)
            let singleLine = "an inline table must be written on one line; use a [table] header for a longer table"
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                pos += 1
                return TOMLNode(value: .table(table.build()), location: start)
            }
            while true {
                if let byte = peek(), !Self.isKeyStart(byte) {
                    let newline = byte == 0x0A || byte == 0x0D
                    throw errorHere("expected a key in inline table, found \(describe(pos))",
                                    hint: newline ? singleLine : nil)
                }
                try parseKeyValue(into: table, expecting: "a key in inline table")
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","):
                    let comma = location()
                    pos += 1
                    skipWhitespace()
                    if peek() == UInt8(ascii: "}") {
                        throw TOMLParseError(
                            message: "a trailing comma is not allowed in an inline table", location: comma,
                            hint: "remove the ',' before '}'")
                    }
                case UInt8(ascii: "}"):
                    pos += 1
                    return TOMLNode(value: .table(table.build()), location: start)
                case let byte:
                    let newline = byte == nil || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "#")
                    throw errorHere("expected ',' or '}' in inline table, found \(describe(pos))",
                                    hint: newline ? singleLine : nil)
                }
            }
        }
    }
}
