import Testing

@testable import TakoCore

/// Helpers shared by the TOML test files.
enum TOMLTesting {
    /// Renders a value compactly and without locations, so an expected document fits on one
    /// line: `{a = 1, b = [true, "x"], c = {d = f:1.5}}`. Strings use Swift's escaping,
    /// floats are prefixed `f:` and date-times `dt:`.
    static func render(_ value: TOMLValue) -> String {
        switch value {
        case .string(let text): text.debugDescription
        case .integer(let number): String(number)
        case .float(let number): "f:\(number)"
        case .boolean(let flag): String(flag)
        case .datetime(let text): "dt:\(text)"
        case .array(let elements): "[" + elements.map { render($0.value) }.joined(separator: ", ") + "]"
        case .table(let table): render(table)
        }
    }

    static func render(_ table: TOMLTable) -> String {
        "{" + table.entries.map { "\(renderKey($0.key)) = \(render($0.node.value))" }.joined(separator: ", ") + "}"
    }

    private static func renderKey(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        return bare ? key : key.debugDescription
    }

    /// The error `text` fails with, or nil if it parses.
    static func error(_ text: String) -> TOMLParseError? {
        do {
            _ = try TOMLParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// The entry at a path of keys through nested tables.
    static func entry(_ document: TOMLDocument, _ path: String...) -> TOMLTable.Entry? {
        var table = document.root
        var result: TOMLTable.Entry?
        for key in path {
            guard let next = table.entry(key) else { return nil }
            result = next
            if case .table(let inner) = next.node.value { table = inner }
        }
        return result
    }

    static func table(_ node: TOMLNode?) -> TOMLTable? {
        guard case .table(let table)? = node?.value else { return nil }
        return table
    }

    static func array(_ node: TOMLNode?) -> [TOMLNode]? {
        guard case .array(let elements)? = node?.value else { return nil }
        return elements
    }
}

private func loc(_ line: Int, _ column: Int) -> TakoCore.SourceLocation {
    TakoCore.SourceLocation(line: line, column: column)
}

struct TOMLParserTests {
    // MARK: Values

    static let scalarCases: [(toml: String, expected: String)] = [
        // Basic strings and escapes.
        (#"v = "plain""#, #"{v = "plain"}"#),
        (#"v = """#, #"{v = ""}"#),
        (#"v = "\b\t\n\f\r\"\\""#, #"{v = "\u{08}\t\n\u{0C}\r\"\\"}"#),
        (#"v = "\u00E9\U0001F600\u0041""#, #"{v = "é😀A"}"#),
        ("v = \"tab\there\"", #"{v = "tab\there"}"#),
        (#"v = "日本語 # not a comment""#, #"{v = "日本語 # not a comment"}"#),
        (#"v = "\u0000""#, #"{v = "\0"}"#),
        // Literal strings.
        (#"v = 'C:\Users\tako'"#, #"{v = "C:\\Users\\tako"}"#),
        (#"v = '<\i\c*\s*>'"#, #"{v = "<\\i\\c*\\s*>"}"#),
        (#"v = 'say "hi"'"#, #"{v = "say \"hi\""}"#),
        (#"v = ''"#, #"{v = ""}"#),
        // Multi-line basic strings.
        ("v = \"\"\"\nline one\nline two\"\"\"", #"{v = "line one\nline two"}"#),
        ("v = \"\"\"no leading newline\"\"\"", #"{v = "no leading newline"}"#),
        ("v = \"\"\"\n\nkeeps the second newline\"\"\"", #"{v = "\nkeeps the second newline"}"#),
        ("v = \"\"\"\nThe quick \\\n\n   brown \\   \n   fox.\"\"\"", #"{v = "The quick brown fox."}"#),
        ("v = \"\"\"a\"\"\"\"", #"{v = "a\""}"#),
        ("v = \"\"\"a\"\"\"\"\"", #"{v = "a\"\""}"#),
        ("v = \"\"\"\"\"a\"\"\"", #"{v = "\"\"a"}"#),
        ("v = \"\"\"\\\"\\\"\\\"\"\"\"", #"{v = "\"\"\""}"#),
        ("v = \"\"\"\r\nwindows\r\nlines\"\"\"", #"{v = "windows\nlines"}"#),
        ("v = \"\"\"tab\tand \\u00E9\"\"\"", #"{v = "tab\tand é"}"#),
        ("v = \"\"\"\"\"\"", #"{v = ""}"#),
        // Multi-line literal strings.
        ("v = '''\nfirst\n  second\\n'''", #"{v = "first\n  second\\n"}"#),
        ("v = '''it's'''", #"{v = "it\'s"}"#),
        ("v = ''''quoted'''''", #"{v = "\'quoted\'\'"}"#),
        ("v = '''\r\na\r\nb'''", #"{v = "a\nb"}"#),
        // Integers.
        ("v = 0", "{v = 0}"),
        ("v = +99", "{v = 99}"),
        ("v = -17", "{v = -17}"),
        ("v = -0", "{v = 0}"),
        ("v = 1_000_000", "{v = 1000000}"),
        ("v = 5_3_4", "{v = 534}"),
        ("v = 0xDEAD_beef", "{v = 3735928559}"),
        ("v = 0x00ff", "{v = 255}"),
        ("v = 0o755", "{v = 493}"),
        ("v = 0o0", "{v = 0}"),
        ("v = 0b1101_0110", "{v = 214}"),
        ("v = 9223372036854775807", "{v = 9223372036854775807}"),
        ("v = -9223372036854775808", "{v = -9223372036854775808}"),
        ("v = 0x7FFFFFFFFFFFFFFF", "{v = 9223372036854775807}"),
        ("v = 0b0111111111111111111111111111111111111111111111111111111111111111", "{v = 9223372036854775807}"),
        // Floats.
        ("v = 3.14", "{v = f:3.14}"),
        ("v = +1.0", "{v = f:1.0}"),
        ("v = -0.01", "{v = f:-0.01}"),
        ("v = 5e+22", "{v = f:5e+22}"),
        ("v = 1e06", "{v = f:1000000.0}"),
        ("v = -2E-2", "{v = f:-0.02}"),
        ("v = 6.626e-34", "{v = f:6.626e-34}"),
        ("v = 224_617.445_991_228", "{v = f:224617.445991228}"),
        ("v = 1_0.0_1e1_0", "{v = f:100100000000.0}"),
        ("v = 0e0", "{v = f:0.0}"),
        ("v = 0.0", "{v = f:0.0}"),
        ("v = -0.0", "{v = f:-0.0}"),
        ("v = 1e-400", "{v = f:0.0}"),
        ("v = inf", "{v = f:inf}"),
        ("v = +inf", "{v = f:inf}"),
        ("v = -inf", "{v = f:-inf}"),
        // Booleans.
        ("v = true", "{v = true}"),
        ("v = false", "{v = false}"),
        // Date-times, kept as written.
        ("v = 1979-05-27T07:32:00Z", "{v = dt:1979-05-27T07:32:00Z}"),
        ("v = 1979-05-27t07:32:00z", "{v = dt:1979-05-27t07:32:00z}"),
        ("v = 1979-05-27 07:32:00Z", "{v = dt:1979-05-27 07:32:00Z}"),
        ("v = 1979-05-27T00:32:00-07:00", "{v = dt:1979-05-27T00:32:00-07:00}"),
        ("v = 1979-05-27T00:32:00.999999+05:30", "{v = dt:1979-05-27T00:32:00.999999+05:30}"),
        ("v = 1979-05-27T07:32:00", "{v = dt:1979-05-27T07:32:00}"),
        ("v = 1979-05-27 07:32:00.5", "{v = dt:1979-05-27 07:32:00.5}"),
        ("v = 1979-05-27", "{v = dt:1979-05-27}"),
        ("v = 07:32:00", "{v = dt:07:32:00}"),
        ("v = 00:32:00.999999", "{v = dt:00:32:00.999999}"),
        ("v = 2000-02-29", "{v = dt:2000-02-29}"),
        ("v = 2024-02-29T12:00:00Z", "{v = dt:2024-02-29T12:00:00Z}"),
        ("v = 1990-12-31T23:59:60Z", "{v = dt:1990-12-31T23:59:60Z}"),
        ("v = 0001-01-01T00:00:00Z", "{v = dt:0001-01-01T00:00:00Z}"),
        ("v = 9999-12-31T23:59:59-23:59", "{v = dt:9999-12-31T23:59:59-23:59}"),
        ("v = 1979-05-27 # a date then a comment", "{v = dt:1979-05-27}"),
        ("v = [1979-05-27 ,1979-05-27 07:32:00]", "{v = [dt:1979-05-27, dt:1979-05-27 07:32:00]}"),
    ]

    @Test(arguments: scalarCases)
    func parsesValue(toml: String, expected: String) throws {
        let document = try TOMLParser.parse(toml)
        #expect(TOMLTesting.render(document.root) == expected)
    }

    @Test(arguments: [("v = nan", false), ("v = +nan", false), ("v = -nan", true)])
    func parsesNaN(toml: String, negative: Bool) throws {
        let document = try TOMLParser.parse(toml)
        guard case .float(let value)? = document.root["v"]?.value else {
            Issue.record("expected a float")
            return
        }
        #expect(value.isNaN)
        #expect((value.sign == .minus) == negative)
    }

    static let compoundCases: [(toml: String, expected: String)] = [
        // Arrays.
        ("a = []", "{a = []}"),
        ("a = [ 1, 2, 3 ]", "{a = [1, 2, 3]}"),
        (#"a = ["x", 1, 1.5, true, 1979-05-27, [1], {k = 1}]"#,
         #"{a = ["x", 1, f:1.5, true, dt:1979-05-27, [1], {k = 1}]}"#),
        ("a = [\n  1, # one\n  2,   # two\n]", "{a = [1, 2]}"),
        ("a = [\n# only a comment\n\n]", "{a = []}"),
        ("a = [ [ 1, 2 ], [\"a\"], [] ]", #"{a = [[1, 2], ["a"], []]}"#),
        ("a = [1,2,]", "{a = [1, 2]}"),
        ("a = [\"\"\"\nmulti\"\"\", '''lit''']", #"{a = ["multi", "lit"]}"#),
        ("a = [\r\n  1,\r\n  2\r\n]", "{a = [1, 2]}"),
        ("a = [\t1\t,\t2\t]", "{a = [1, 2]}"),
        // Inline tables.
        ("t = {}", "{t = {}}"),
        ("t = { x = 1, y = \"two\" }", #"{t = {x = 1, y = "two"}}"#),
        ("t = {x=1,y=2}", "{t = {x = 1, y = 2}}"),
        ("t = { a.b = 1, a.c = 2, d = 3 }", "{t = {a = {b = 1, c = 2}, d = 3}}"),
        ("t = { inner = { deep = true }, list = [{ n = 1 }, { n = 2 }] }",
         "{t = {inner = {deep = true}, list = [{n = 1}, {n = 2}]}}"),
        ("t = { arr = [\n1,\n2\n] }", "{t = {arr = [1, 2]}}"),
        ("t = { \"quoted key\" = 1, 'lit' = 2 }", #"{t = {"quoted key" = 1, lit = 2}}"#),
        ("t = { s = \"\"\"\nmulti\nline\"\"\" }", #"{t = {s = "multi\nline"}}"#),
    ]

    @Test(arguments: compoundCases)
    func parsesArraysAndInlineTables(toml: String, expected: String) throws {
        let document = try TOMLParser.parse(toml)
        #expect(TOMLTesting.render(document.root) == expected)
    }

    // MARK: Keys

    static let keyCases: [(toml: String, expected: String)] = [
        ("bare_key-1 = 1\nBARE = 2\n1234 = 3\n-_- = 4", "{bare_key-1 = 1, BARE = 2, 1234 = 3, -_- = 4}"),
        (#""127.0.0.1" = 1"#, #"{"127.0.0.1" = 1}"#),
        (#""character encoding" = 1"#, #"{"character encoding" = 1}"#),
        (#""ʎǝʞ" = 1"#, #"{"ʎǝʞ" = 1}"#),
        (#"'key2' = 1"#, "{key2 = 1}"),
        (#"'quoted "value"' = 1"#, #"{"quoted \"value\"" = 1}"#),
        (#""" = 1"#, #"{"" = 1}"#),
        ("'' = 1", #"{"" = 1}"#),
        (#""a\tb\u00E9" = 1"#, #"{"a\tbé" = 1}"#),
        ("a.b.c = 1", "{a = {b = {c = 1}}}"),
        ("a . b\t.\tc = 1", "{a = {b = {c = 1}}}"),
        (#"site."google.com" = true"#, #"{site = {"google.com" = true}}"#),
        ("3.14159 = \"pi\"", #"{3 = {14159 = "pi"}}"#),
        ("fruit.apple.color = \"red\"\nfruit.apple.taste.sweet = true\nfruit.orange = 2",
         #"{fruit = {apple = {color = "red", taste = {sweet = true}}, orange = 2}}"#),
        ("b = 1\na = 2\nc = 3", "{b = 1, a = 2, c = 3}"),
        ("key=1", "{key = 1}"),
        ("true = 1\nfalse = 2\ninf = 3\nnan = 4", "{true = 1, false = 2, inf = 3, nan = 4}"),
        (#""a.b" = 1"#, #"{"a.b" = 1}"#),
        ("a = 1\n\"b\" = 2\n'c' = 3", "{a = 1, b = 2, c = 3}"),
    ]

    @Test(arguments: keyCases)
    func parsesKeys(toml: String, expected: String) throws {
        let document = try TOMLParser.parse(toml)
        #expect(TOMLTesting.render(document.root) == expected)
    }

    // MARK: Tables

    static let tableCases: [(toml: String, expected: String)] = [
        ("", "{}"),
        ("\n\n   \n\t\n", "{}"),
        ("# only a comment", "{}"),
        ("[table]", "{table = {}}"),
        ("top = 1\n[table]\nkey = \"v\"\nother = 2", #"{top = 1, table = {key = "v", other = 2}}"#),
        ("[a.b.c]\nx = 1", "{a = {b = {c = {x = 1}}}}"),
        ("[ a . \"b c\" . 'd' ]\nx = 1", #"{a = {"b c" = {d = {x = 1}}}}"#),
        ("[a.b]\nx = 1\n[a]\ny = 2", "{a = {b = {x = 1}, y = 2}}"),
        ("[a]\n[a.b]\n[a.c]", "{a = {b = {}, c = {}}}"),
        ("[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true",
         #"{fruit = {apple = {color = "red", texture = {smooth = true}}}}"#),
        ("[x.y.z.w]\n[x]", "{x = {y = {z = {w = {}}}}}"),
        ("[[p]]\nn = 1\n[[p]]\n[[p]]\nn = 3", "{p = [{n = 1}, {}, {n = 3}]}"),
        ("""
        [[fruits]]
        name = "apple"
        [fruits.physical]
        color = "red"
        [[fruits.varieties]]
        name = "red delicious"
        [[fruits.varieties]]
        name = "granny smith"
        [[fruits]]
        name = "banana"
        [[fruits.varieties]]
        name = "plantain"
        """,
         #"{fruits = [{name = "apple", physical = {color = "red"}, varieties = [{name = "red delicious"}, "#
            + #"{name = "granny smith"}]}, {name = "banana", varieties = [{name = "plantain"}]}]}"#),
        ("[[a.b]]\nx = 1\n[a]\ny = 2", "{a = {b = [{x = 1}], y = 2}}"),
        ("[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2", "{a = [{b = {x = 1}}, {b = {x = 2}}]}"),
        ("[[a]]\nb.c = 1\n[[a]]\nb.c = 2", "{a = [{b = {c = 1}}, {b = {c = 2}}]}"),
        ("[a]\nb.c = 1\nb.d = 2\n[a.b.e]\nf = 3", "{a = {b = {c = 1, d = 2, e = {f = 3}}}}"),
        ("a.b = 1\n[a.c]\nd = 2", "{a = {b = 1, c = {d = 2}}}"),
        ("[a.b.c]\n[a]\nb.d = 1", "{a = {b = {c = {}, d = 1}}}"),
        ("[\"quoted.header\"]\nx = 1", #"{"quoted.header" = {x = 1}}"#),
        ("[[ 'lit' ]]\nx = 1", "{lit = [{x = 1}]}"),
        ("[a]\t# comment\nx = 1 # comment\n# comment\n  [b]  \n", "{a = {x = 1}, b = {}}"),
    ]

    @Test(arguments: tableCases)
    func parsesTables(toml: String, expected: String) throws {
        let document = try TOMLParser.parse(toml)
        #expect(TOMLTesting.render(document.root) == expected)
    }

    @Test
    func parsesCommentsWhereverAllowed() throws {
        let toml = """
            # leading comment
            \t# indented comment
            key = "value" # after a value
            [table] # after a header
            # between keys
            list = [ # after [
              1, # after an element
              # on its own line
              2 # before ]
            ] # after ]
            [[array]] # after [[header]]
            #no space after hash, and "quotes" and 'brackets' [ ] and é and\ttab
            """
        let document = try TOMLParser.parse(toml)
        #expect(TOMLTesting.render(document.root) == #"{key = "value", table = {list = [1, 2]}, array = [{}]}"#)
    }

    // MARK: Line endings and encoding

    @Test
    func acceptsCRLFLineEndings() throws {
        let document = try TOMLParser.parse("a = 1\r\n[t]\r\nb = [\r\n2 # c\r\n]\r\n# end\r\n")
        #expect(TOMLTesting.render(document.root) == "{a = 1, t = {b = [2]}}")
        #expect(TOMLTesting.entry(document, "t", "b")?.keyLocation == loc(3, 1))
        #expect(document.headers.map(\.line) == [2])
    }

    @Test
    func skipsByteOrderMarkAtStart() throws {
        let document = try TOMLParser.parse("\u{FEFF}a = 1\nb = 2")
        #expect(TOMLTesting.render(document.root) == "{a = 1, b = 2}")
        #expect(document.root.entry("a")?.keyLocation == loc(1, 1))
        #expect(document.root["a"]?.location == loc(1, 5))
    }

    @Test
    func parsesEmptyDocumentWithOnlyByteOrderMark() throws {
        let document = try TOMLParser.parse("\u{FEFF}")
        #expect(document.root.entries.isEmpty)
        #expect(document.headers.isEmpty)
    }
}
