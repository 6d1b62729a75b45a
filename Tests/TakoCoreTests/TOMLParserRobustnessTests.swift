import TakoTestSupport
import Testing

@testable import TakoCore

/// Hostile and random input: the parser must return or throw, never trap or recurse deeply.
struct TOMLParserRobustnessTests {

    static let limit = TOMLParser.maxNestingDepth

    // MARK: Nesting

    @Test(arguments: [
        String(repeating: "[", count: 100_000),
        String(repeating: "[[", count: 50_000) + "a]]",
        "a = " + String(repeating: "[", count: 100_000),
        "a = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
        "a = " + String(repeating: "{b = ", count: 100_000),
        "a = " + String(repeating: "[{b = ", count: 50_000),
        "a = " + String(repeating: "{", count: 100_000),
        String(repeating: "a.", count: 100_000) + "a = 1",
        "[" + String(repeating: "a.", count: 100_000) + "a]",
        String(repeating: "{", count: 100_000),
        String(repeating: "\"", count: 100_000),
        String(repeating: "'", count: 100_000),
        "a = \"\"\"" + String(repeating: "\"", count: 100_000),
        "a = " + String(repeating: "1", count: 100_000),
        "a = " + String(repeating: "-", count: 100_000),
    ])
    func rejectsPathologicalInputWithoutCrashing(_ toml: String) {
        #expect(TOMLTesting.error(toml) != nil)
    }

    @Test
    func acceptsArraysNestedToTheLimit() throws {
        // `a` is one level deep, so its value may open `limit` arrays.
        let toml = "a = " + String(repeating: "[", count: Self.limit) + String(repeating: "]", count: Self.limit)
        let document = try TOMLParser.parse(toml)
        var depth = 0
        var node = document.root["a"]
        while case .array(let elements)? = node?.value {
            depth += 1
            node = elements.first
        }
        #expect(depth == Self.limit)
    }

    @Test
    func rejectsArraysNestedBeyondTheLimit() throws {
        let toml = "a = " + String(repeating: "[", count: Self.limit + 1) + String(repeating: "]", count: Self.limit + 1)
        let error = try #require(TOMLTesting.error(toml))
        #expect(error.message == "tables and arrays are nested more than 128 levels deep")
        #expect(error.location == TakoCore.SourceLocation(line: 1, column: 5 + Self.limit))
    }

    @Test
    func rejectsInlineTablesNestedBeyondTheLimit() throws {
        let deep = "a = " + String(repeating: "{b = ", count: Self.limit + 1) + "1"
            + String(repeating: "}", count: Self.limit + 1)
        let error = try #require(TOMLTesting.error(deep))
        #expect(error.message.contains("nested more than 128 levels"))
        let shallow = "a = " + String(repeating: "{b = ", count: Self.limit) + "1"
            + String(repeating: "}", count: Self.limit)
        #expect(TOMLTesting.error(shallow) == nil)
    }

    @Test
    func limitsDottedKeysAndHeaders() throws {
        let segments = { (count: Int) in Array(repeating: "k", count: count).joined(separator: ".") }
        #expect(TOMLTesting.error(segments(Self.limit) + " = 1") == nil)
        #expect(TOMLTesting.error("[" + segments(Self.limit) + "]") == nil)
        let longKey = try #require(TOMLTesting.error(segments(Self.limit + 1) + " = 1"))
        #expect(longKey.message.contains("nested more than 128 levels"))
        let longHeader = try #require(TOMLTesting.error("[" + segments(Self.limit + 1) + "]"))
        #expect(longHeader.message.contains("nested more than 128 levels"))
        // Depth adds up across a header, a dotted key and a value.
        let combined = "[" + segments(100) + "]\n" + segments(20) + " = " + String(repeating: "[", count: 20)
        let error = try #require(TOMLTesting.error(combined))
        #expect(error.message.contains("nested more than 128 levels"))
        #expect(error.location.line == 2)
    }

    // MARK: Size

    @Test
    func parsesLongLinesInLinearTime() throws {
        let count = 20_000
        let keys = (0..<count).map { "k\($0) = \($0)" }.joined(separator: ", ")
        let document = try TOMLParser.parse("t = { \(keys) }\nlist = [" + String(repeating: "1, ", count: count) + "]")
        let table = try #require(TOMLTesting.table(document.root["t"]))
        #expect(table.entries.count == count)
        #expect(table.entries.last?.keyLocation.column == 7 + keys.utf8.count - "k19999 = 19999".utf8.count)
        #expect(TOMLTesting.array(document.root["list"])?.count == count)
        let duplicate = try #require(TOMLTesting.error("t = { \(keys), k0 = 1 }"))
        #expect(duplicate.message == "duplicate key 'k0' (first defined on line 1)")
    }

    @Test
    func parsesManyTablesAndLines() throws {
        let count = 5_000
        let toml = (0..<count).map { "[[servers]]\nname = \"s\($0)\"\n[servers.meta]\nindex = \($0)" }
            .joined(separator: "\n")
        let document = try TOMLParser.parse(toml)
        #expect(document.headers.count == 2 * count)
        let servers = try #require(TOMLTesting.array(document.root["servers"]))
        #expect(servers.count == count)
        #expect(servers.last?.location == TakoCore.SourceLocation(line: 4 * count - 3, column: 1))
    }

    // MARK: Random input

    static let fragments: [String] = [
        "[", "]", "[[", "]]", "{", "}", "=", " = ", ",", ".", "\"", "'", "\"\"\"", "'''", "\\", "\\u", "\\U",
        "#", "\n", "\r\n", "\r", " ", "\t", "a", "key", "b.c", "1", "0x", "0o", "0b", "1e5", "1.5", "-", "+", "_",
        ":", "1979-05-27", "T", "07:32:00", "Z", "+07:00", "true", "false", "inf", "nan", "é", "😀", "\u{0}",
        "\u{7F}", "\u{FEFF}", "9223372036854775807", "99999999999999999999", "a = 1\n", "[t]\n", "[[t]]\n",
        "t = {x = 1}\n", "x = [1, [2, {y = 3}]]\n", "s = \"\"\"\n", "\\\n",
    ]

    static func randomDocument(_ generator: inout SplitMix64) -> String {
        var text = ""
        let pieces = Int.random(in: 0...60, using: &generator)
        for _ in 0..<pieces {
            if Int.random(in: 0..<8, using: &generator) == 0 {
                let value = UInt32.random(in: 0...0x2FFF, using: &generator)
                text.unicodeScalars.append(Unicode.Scalar(value) ?? "?")
            } else {
                text += fragments[Int.random(in: 0..<fragments.count, using: &generator)]
            }
        }
        return text
    }

    @Test(arguments: [1, 2, 3, 4])
    func survivesRandomInput(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var parsed = 0
        for _ in 0..<2_000 {
            let text = Self.randomDocument(&generator)
            do {
                _ = try TOMLParser.parse(text)
                parsed += 1
            } catch {
                checkLocation(error, in: text)
            }
        }
        #expect(parsed < 2_000)
    }

    @Test
    func survivesEveryTruncationAndDeletionOfAValidDocument() throws {
        let toml = """
            # config
            name = "tako" # the app
            "\u{3b1}" = 'x'
            [server]
            port = 8080
            hosts = [ "a", 'b', \"\"\"c\"\"\", '''d''' ]
            limits = { cpu = 1.5, mem = 0x100, when = 1979-05-27T07:32:00-07:00 }
            [[servers]]
            s.t = -inf
            text = \"\"\"
            one \\
              two\"\"\"
            [[servers]]
            at = 07:32:00.5
            """
        let bytes = Array(toml.utf8)
        _ = try TOMLParser.parse(toml)
        for end in 0...bytes.count {
            let text = String(decoding: bytes[..<end], as: UTF8.self)
            if let error = TOMLTesting.error(text) { checkLocation(error, in: text) }
        }
        for removed in bytes.indices {
            var copy = bytes
            copy.remove(at: removed)
            let text = String(decoding: copy, as: UTF8.self)
            if let error = TOMLTesting.error(text) { checkLocation(error, in: text) }
        }
    }

    /// An error's location is inside the document: a real line, and at most one column past its end.
    private func checkLocation(_ error: TOMLParseError, in text: String) {
        // Split on scalars: as Characters, "\r\n" is one grapheme and would not split on "\n".
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(error.location.line >= 1 && error.location.line <= lines.count, "\(error.message) in \(text.debugDescription)")
        let line = lines[max(0, min(error.location.line, lines.count) - 1)]
        #expect(error.location.column >= 1 && error.location.column <= line.count + 1,
                "\(error.message) at \(error.location) in \(text.debugDescription)")
        #expect(!error.message.isEmpty)
    }
}
