import Testing

@testable import TakoCore

/// One document that must be rejected, with where and why.
struct TOMLInvalidCase: CustomTestStringConvertible, Sendable {
    var toml: String
    var line: Int
    var column: Int
    var message: String

    init(_ toml: String, _ line: Int, _ column: Int, _ message: String) {
        self.toml = toml
        self.line = line
        self.column = column
        self.message = message
    }

    var testDescription: String { toml.debugDescription }
}

struct TOMLParserErrorTests {
    static let keyCases: [TOMLInvalidCase] = [
        .init("= 1", 1, 1, "expected a key, a [table] header or a comment, found '='"),
        .init("a = 1\nb", 2, 2, "expected '=' after key 'b', found end of file"),
        .init("a = 1\nb\n", 2, 2, "expected '=' after key 'b'"),
        .init("my key = 1", 1, 4, "expected '=' after key 'my', found 'k'"),
        .init("a: 1", 1, 2, "expected '=' after key 'a', found ':'"),
        .init("a. = 1", 1, 4, "expected a key after '.', found '='"),
        .init(".a = 1", 1, 1, "found '.'"),
        .init("a..b = 1", 1, 3, "expected a key after '.', found '.'"),
        .init("\"\"\"k\"\"\" = 1", 1, 1, "a multi-line string cannot be used as a key"),
        .init("'''k''' = 1", 1, 1, "a multi-line string cannot be used as a key"),
        .init("\"k = 1", 1, 7, "expected '\"' to close the string, found end of file"),
        .init("\"k\n= 1", 1, 3, "expected '\"' to close the string, found end of line"),
        .init("ключ = 1", 1, 1, "found 'к' (U+043A)"),
        .init("a = 1\n\u{FEFF}b = 2", 2, 1, "found U+FEFF"),
        .init("\u{3000}a = 1", 1, 1, "found U+3000"),
        .init("a = 1 b = 2", 1, 7, "expected end of line after the value of 'a', found 'b'"),
        .init("}", 1, 1, "expected a key, a [table] header or a comment, found '}'"),
    ]

    static let duplicateCases: [TOMLInvalidCase] = [
        .init("name = 1\n\nname = 2", 3, 1, "duplicate key 'name' (first defined on line 1)"),
        .init("a = 1\n\"a\" = 2", 2, 1, "duplicate key 'a' (first defined on line 1)"),
        .init("\"a b\" = 1\n'a b' = 2", 2, 1, "duplicate key '\"a b\"' (first defined on line 1)"),
        .init("[t]\nx = 1\ny = 2\nx = 3", 4, 1, "duplicate key 'x' (first defined on line 2)"),
        .init("a.b = 1\na.b = 2", 2, 3, "duplicate key 'a.b' (first defined on line 1)"),
        .init("a.b = 1\na = 2", 2, 1, "duplicate key 'a' (already used for a table on line 1)"),
        .init("[a.b]\n[a]\nb = 1", 3, 1, "duplicate key 'b' (already used for a table on line 1)"),
        .init("a = 1\na.b = 2", 2, 1, "cannot define key 'a.b': 'a' is already an integer (defined on line 1)"),
        .init("a.b.c = 1\na.b.c.d = 2", 2, 5, "'a.b.c' is already an integer (defined on line 1)"),
        .init("s = 'x'\ns.t = 1", 2, 1, "'s' is already a string"),
    ]

    static let valueCases: [TOMLInvalidCase] = [
        .init("a =", 1, 4, "expected a value, found end of file"),
        .init("a =\nb = 1", 1, 4, "expected a value, found end of line"),
        .init("a = # comment", 1, 5, "expected a value, found '#'"),
        .init("name = my-app", 1, 8, "expected a value for key 'name', found 'my-app'"),
        .init("a = True", 1, 5, "found 'True'"),
        .init("a = truee", 1, 5, "found 'truee'"),
        .init("a = 1 2", 1, 7, "expected end of line after the value of 'a', found '2'"),
        .init("a = \"x\" \"y\"", 1, 9, "expected end of line after the value of 'a', found '\"'"),
        .init("a = .5", 1, 5, "expected a value, found '.'"),
        .init("a = =1", 1, 5, "expected a value, found '='"),
        .init("a = 1,", 1, 6, "expected end of line after the value of 'a', found ','"),
    ]

    static let stringCases: [TOMLInvalidCase] = [
        .init("a = \"abc", 1, 9, "expected '\"' to close the string, found end of file"),
        .init("a = \"abc\nb = 1", 1, 9, "expected '\"' to close the string, found end of line"),
        .init("a = 'abc\nb = 1", 1, 9, "expected \"'\" to close the string, found end of line"),
        .init("a = \"a\\qb\"", 1, 7, "invalid escape sequence '\\q' in string"),
        .init("a = \"a\\xff\"", 1, 7, "invalid escape sequence '\\x' in string"),
        .init("a = \"a\\ b\"", 1, 7, "invalid escape sequence '\\' followed by a space in string"),
        .init("a = \"a\\\nb\"", 1, 7, "'\\' at the end of a line in a single-line string"),
        .init("a = \"\\uD800\"", 1, 6, "escape '\\uD800' is not a valid Unicode scalar value"),
        .init("a = \"\\U00110000\"", 1, 6, "escape '\\U00110000' is not a valid Unicode scalar value"),
        .init("a = \"\\u12\"", 1, 6, "escape '\\u' needs exactly 4 hexadecimal digits"),
        .init("a = \"\\U1234567\"", 1, 6, "escape '\\U' needs exactly 8 hexadecimal digits"),
        .init("a = \"\\u00G0\"", 1, 6, "escape '\\u' needs exactly 4 hexadecimal digits"),
        .init("a = \"x\u{01}\"", 1, 7, "control character U+0001 is not allowed in a string"),
        .init("a = \"x\u{7F}\"", 1, 7, "control character U+007F is not allowed in a string"),
        .init("a = \"x\u{1F}\"", 1, 7, "control character U+001F is not allowed in a string"),
        .init("a = \"x\ry\"", 1, 7, "a carriage return must be followed by a line feed"),
        .init("a = 'x\u{00}'", 1, 7, "control character U+0000 is not allowed in a string"),
        .init("a = '''x\n\u{0B}'''", 2, 1, "control character U+000B is not allowed in a string"),
        .init("a = \"\"\"x\n\u{08}\"\"\"", 2, 1, "control character U+0008 is not allowed in a string"),
        .init("a = \"\"\"x\ry\"\"\"", 1, 9, "a carriage return must be followed by a line feed"),
        .init("a = \"\"\"abc\n\ndef", 3, 4, "expected '\"\"\"' to close the multi-line string, found end of file"),
        .init("a = '''abc\n", 2, 1, "expected \"'''\" to close the multi-line string, found end of file"),
        .init("a = \"\"\"a\"\"\"\"\"\"", 1, 14, "expected end of multi-line string after \"\"\""),
        .init("a = '''a''''''", 1, 14, "expected end of multi-line string after '''"),
        .init("a = \"\"\"a \\ b\"\"\"", 1, 10, "invalid escape sequence '\\' followed by a space"),
        .init("a = \"\"\"\\q\"\"\"", 1, 8, "invalid escape sequence '\\q' in string"),
        .init("a = \"\"\"\n\\uDFFF\"\"\"", 2, 1, "is not a valid Unicode scalar value"),
    ]

    static let commentAndLineCases: [TOMLInvalidCase] = [
        .init("# bad \u{7F} here", 1, 7, "control character U+007F is not allowed in a comment"),
        .init("a = 1 # nul \u{00}", 1, 13, "control character U+0000 is not allowed in a comment"),
        .init("# form \u{0C} feed", 1, 8, "control character U+000C is not allowed in a comment"),
        .init("a = 1\rb = 2", 1, 6, "a carriage return must be followed by a line feed"),
        .init("a = 1 # comment\r", 1, 16, "a carriage return must be followed by a line feed"),
        .init("a = 1\n\r", 2, 1, "a carriage return must be followed by a line feed"),
        .init("a = [1,\r2]", 1, 8, "a carriage return must be followed by a line feed"),
        .init("\u{0C}a = 1", 1, 1, "found control character U+000C"),
    ]

    static let integerCases: [TOMLInvalidCase] = [
        .init("a = 01", 1, 5, "invalid number '01': leading zeros are not allowed"),
        .init("a = -012", 1, 5, "leading zeros are not allowed"),
        .init("a = 0_1", 1, 5, "leading zeros are not allowed"),
        .init("a = +0x1", 1, 5, "hexadecimal, octal and binary integers cannot have a sign"),
        .init("a = -0b1", 1, 5, "hexadecimal, octal and binary integers cannot have a sign"),
        .init("a = 0X1F", 1, 5, "base prefixes are lowercase"),
        .init("a = 0O17", 1, 5, "base prefixes are lowercase"),
        .init("a = 1__0", 1, 5, "an underscore must be between two digits"),
        .init("a = 1_", 1, 5, "an underscore must be between two digits"),
        .init("a = _1", 1, 5, "expected a value for key 'a', found '_1'"),
        .init("a = 0x_1", 1, 5, "an underscore must be between two digits"),
        .init("a = 0x", 1, 5, "invalid number '0x': expected digits"),
        .init("a = 0b102", 1, 5, "'2' is not a binary digit"),
        .init("a = 0o78", 1, 5, "'8' is not an octal digit"),
        .init("a = 0xfg", 1, 5, "'g' is not a hexadecimal digit"),
        .init("a = 12a", 1, 5, "'a' is not a digit"),
        .init("a = 9223372036854775808", 1, 5, "integer '9223372036854775808' does not fit in 64 bits"),
        .init("a = -9223372036854775809", 1, 5, "does not fit in 64 bits"),
        .init("a = 99999999999999999999999999", 1, 5, "does not fit in 64 bits"),
        .init("a = 0x8000000000000000", 1, 5, "does not fit in 64 bits"),
        .init("a = 0xFFFFFFFFFFFFFFFFFFFF", 1, 5, "does not fit in 64 bits"),
        .init("a = 0b1000000000000000000000000000000000000000000000000000000000000000", 1, 5, "does not fit in 64 bits"),
        .init("a = +", 1, 5, "invalid number '+': expected digits after the sign"),
        .init("a = --1", 1, 5, "invalid number '--1'"),
    ]

    static let floatCases: [TOMLInvalidCase] = [
        .init("a = 1.", 1, 5, "a decimal point must be followed by digits"),
        .init("a = 1.e5", 1, 5, "a decimal point must be followed by digits"),
        .init("a = -.5", 1, 5, "a float needs a digit before the decimal point"),
        .init("a = 1e", 1, 5, "an exponent must have digits"),
        .init("a = 1e+", 1, 5, "an exponent must have digits"),
        .init("a = 1e_5", 1, 5, "an underscore must be between two digits"),
        .init("a = 1_.5", 1, 5, "an underscore must be between two digits"),
        .init("a = 1._5", 1, 5, "an underscore must be between two digits"),
        .init("a = 03.14", 1, 5, "leading zeros are not allowed"),
        .init("a = 1.5.2", 1, 5, "'.' is not a digit"),
        .init("a = 1e5.5", 1, 5, "'.' is not a digit"),
        .init("a = 1e400", 1, 5, "float '1e400' is too large"),
        .init("a = -1.8e308", 1, 5, "is too large"),
        .init("a = Inf", 1, 5, "found 'Inf'"),
        .init("a = NaN", 1, 5, "found 'NaN'"),
        .init("a = +in", 1, 5, "invalid number '+in'"),
        .init("a = inf_", 1, 5, "found 'inf_'"),
        .init("a = nan.0", 1, 5, "found 'nan.0'"),
    ]

    static let dateTimeCases: [TOMLInvalidCase] = [
        .init("a = 1979-13-01", 1, 10, "invalid date '1979-13-01': month 13 does not exist"),
        .init("a = 1979-00-01", 1, 10, "month 0 does not exist"),
        .init("a = 1979-02-29", 1, 13, "day 29 does not exist (February 1979 has 28 days)"),
        .init("a = 2100-02-29", 1, 13, "February 2100 has 28 days"),
        .init("a = 1979-04-31", 1, 13, "day 31 does not exist (April 1979 has 30 days)"),
        .init("a = 1979-01-00", 1, 13, "day 0 does not exist"),
        .init("a = 1979-05-27T24:00:00", 1, 16, "invalid date-time '1979-05-27T24:00:00': hour 24 does not exist"),
        .init("a = 1979-05-27T07:60:00", 1, 19, "minute 60 does not exist"),
        .init("a = 1979-05-27T07:32:61Z", 1, 22, "second 61 does not exist"),
        .init("a = 1979-05-27T07:32Z", 1, 21, "expected ':' after the minute (seconds are required)"),
        .init("a = 1979-05-27 07:32", 1, 21, "seconds are required"),
        .init("a = 07:32", 1, 10, "invalid time '07:32'"),
        .init("a = 1979-5-27", 1, 11, "the month must be 2 digits"),
        .init("a = 79-05-27", 1, 5, "not a date or time"),
        .init("a = 1979-05-27T07:32:00+25:00", 1, 25, "offset hour 25 does not exist"),
        .init("a = 1979-05-27T07:32:00+07:60", 1, 28, "offset minute 60 does not exist"),
        .init("a = 1979-05-27T07:32:00+0700", 1, 27, "expected ':' in the time zone offset"),
        .init("a = 1979-05-27T07:32:00X", 1, 24, "expected 'Z' or an offset"),
        .init("a = 1979-05-27T07:32:00ZZ", 1, 25, "unexpected 'Z' after the time zone"),
        .init("a = 07:32:00Z", 1, 13, "a time without a date cannot have a time zone"),
        .init("a = 1979-05-27T07:32:00.", 1, 25, "expected digits after the decimal point"),
        .init("a = 1979-05-27X07:32:00", 1, 15, "expected 'T' or a space between the date and the time"),
        .init("a = 1979-05-27T", 1, 16, "the hour must be 2 digits"),
        .init("a = 1979-05-27 07:32:00 Z", 1, 25, "expected end of line after the value of 'a', found 'Z'"),
    ]

    static let arrayCases: [TOMLInvalidCase] = [
        .init("a = [1,,2]", 1, 8, "expected a value, found ','"),
        .init("a = [,]", 1, 6, "expected a value, found ','"),
        .init("a = [1 2]", 1, 8, "expected ',' or ']' after array element, found '2'"),
        .init("a = [1,", 1, 8, "expected a value or ']' in array, found end of file"),
        .init("a = [\n1", 2, 2, "expected ',' or ']' in array, found end of file"),
        .init("a = [1}", 1, 7, "expected ',' or ']' after array element, found '}'"),
        .init("a = [1]]", 1, 8, "expected end of line after the value of 'a', found ']'"),
        .init("a = [x]", 1, 6, "expected a value, found 'x'"),
    ]

    static let inlineTableCases: [TOMLInvalidCase] = [
        .init("t = {a = 1,}", 1, 11, "a trailing comma is not allowed in an inline table"),
        .init("t = {a = 1\n}", 1, 11, "expected ',' or '}' in inline table, found end of line"),
        .init("t = {\na = 1}", 1, 6, "expected a key in inline table, found end of line"),
        .init("t = {a = 1 b = 2}", 1, 12, "expected ',' or '}' in inline table, found 'b'"),
        .init("t = {a = 1, # c\n}", 1, 13, "expected a key in inline table, found '#'"),
        .init("t = {,}", 1, 6, "expected a key in inline table, found ','"),
        .init("t = {a = 1, a = 2}", 1, 13, "duplicate key 'a' (first defined on line 1)"),
        .init("t = {a = 1, a.b = 2}", 1, 13, "cannot define key 'a.b': 'a' is already an integer"),
        .init("t = {a = {}, a.b = 2}", 1, 14, "'a' is an inline table (defined on line 1), which cannot be extended"),
        .init("t = {a = 1\n", 1, 11, "expected ',' or '}' in inline table, found end of line"),
        .init("t = {a", 1, 7, "expected '=' after key 'a', found end of file"),
        .init("t = {a = 1}\nt.b = 2", 2, 1, "cannot define key 't.b': 't' is an inline table (defined on line 1), which cannot be extended"),
        .init("t = {}\n[t.x]", 2, 2, "cannot define table [t.x]: 't' is an inline table (defined on line 1)"),
        .init("t = {}\n[t]", 2, 1, "cannot define table [t]: 't' is an inline table (defined on line 1)"),
        .init("t = {}\n[[t]]", 2, 1, "cannot define array of tables [[t]]: 't' is an inline table"),
        .init("[p]\nt = {a.b = 1}\n[p.t.a]", 3, 4, "'p.t' is an inline table (defined on line 2)"),
    ]

    static let tableCases: [TOMLInvalidCase] = [
        .init("[a]\nx = 1\n[a]", 3, 1, "table [a] is defined twice (first on line 1)"),
        .init("[a.b]\n[a]\n[a]", 3, 1, "table [a] is defined twice (first on line 2)"),
        .init("[a]\n[a.b]\n[\"a\".'b']", 3, 1, "table [a.b] is defined twice (first on line 2)"),
        .init("a.b = 1\n[a]", 2, 1, "table [a] was already defined with dotted keys on line 1"),
        .init("[x]\na.b = 1\n[x.a]", 3, 1, "table [x.a] was already defined with dotted keys on line 2"),
        .init("[x]\na.b.c = 1\n[x.a.b]", 3, 1, "table [x.a.b] was already defined with dotted keys on line 2"),
        .init("[a.b.c]\n[a]\nb.c.d = 1", 3, 3, "cannot add to table 'b.c' with a dotted key: it is defined by a header on line 1"),
        .init("[a]\nb = 1\n[a.b]", 3, 1, "cannot define table [a.b]: 'a.b' is already an integer (defined on line 2)"),
        .init("a = 1\n[a.b.c]", 2, 2, "cannot define table [a.b.c]: 'a' is already an integer (defined on line 1)"),
        .init("[[a]]\n[a]", 2, 1, "cannot define table [a]: 'a' is already an array of tables (defined on line 1)"),
        .init("[a]\n[[a]]", 2, 1, "cannot define array of tables [[a]]: 'a' is already a table (defined on line 1)"),
        .init("a = [1]\n[[a]]", 2, 1, "cannot append to static array 'a' (defined on line 1) with [[a]]"),
        .init("a = []\n[a.b]", 2, 2, "cannot define table [a.b]: 'a' is already an array (defined on line 1)"),
        .init("[[a.b]]\n[a]\nb.x = 1", 3, 1, "cannot add to 'b' with a dotted key: it is an array of tables (defined on line 1)"),
        .init("[[albums.songs]]\n[[albums]]", 2, 1, "cannot define array of tables [[albums]]: 'albums' is already a table (defined on line 1)"),
        .init("[fruit.physical]\n[[fruit]]", 2, 1, "'fruit' is already a table"),
        .init("[[a]]\n[[a]]\nx = 1\n[a.x]", 4, 1, "cannot define table [a.x]: 'a.x' is already an integer (defined on line 3)"),
        .init("[[a]]\nx = 1\n[[a]]\nx = 1\nx = 2", 5, 1, "duplicate key 'x' (first defined on line 4)"),
        .init("[a]\nb.c = 1\n[[a.b]]", 3, 1, "cannot define array of tables [[a.b]]: 'a.b' is already a table (defined on line 2)"),
        .init("[]", 1, 2, "expected a table name, found ']'"),
        .init("[[]]", 1, 3, "expected a table name, found ']'"),
        .init("[a", 1, 3, "expected ']' after table name 'a', found end of file"),
        .init("[a\nb = 1", 1, 3, "expected ']' after table name 'a', found end of line"),
        .init("[[a]", 1, 5, "expected ']]' to close array of tables header 'a', found end of file"),
        .init("[[a] ]", 1, 5, "expected ']]' to close array of tables header 'a', found a space"),
        .init("[ [a] ]", 1, 3, "expected a table name after '[', found '['"),
        .init("[a] x", 1, 5, "expected end of line after table header, found 'x'"),
        .init("[a]]", 1, 4, "expected end of line after table header, found ']'"),
        .init("[a.]", 1, 4, "expected a key after '.', found ']'"),
        .init("[a] = 1", 1, 5, "expected end of line after table header, found '='"),
        .init("[\"\"\"a\"\"\"]", 1, 2, "a multi-line string cannot be used as a key"),
        .init("[a b]", 1, 4, "expected ']' after table name 'a', found 'b'"),
    ]

    static var allCases: [TOMLInvalidCase] {
        keyCases + duplicateCases + valueCases + stringCases + commentAndLineCases + integerCases + floatCases
            + dateTimeCases + arrayCases + inlineTableCases + tableCases
    }

    @Test(arguments: allCases)
    func rejectsInvalidDocument(_ invalid: TOMLInvalidCase) throws {
        let error = try #require(TOMLTesting.error(invalid.toml), "should have been rejected")
        #expect(error.message.contains(invalid.message), "message: \(error.message)")
        #expect(error.location == TakoCore.SourceLocation(line: invalid.line, column: invalid.column),
                "message: \(error.message)")
    }

    static let hintCases: [(toml: String, hint: String)] = [
        ("name = my-app", #"strings must be quoted: name = "my-app""#),
        ("name = my app # comment", #"strings must be quoted: name = "my app""#),
        ("list = [one, two]", #"strings must be quoted: "one""#),
        ("t = {k = v}", #"strings must be quoted: k = "v""#),
        ("flag = True", "booleans are written in lowercase: true or false"),
        ("n = NaN", "special floats are written in lowercase: inf, +inf, -inf or nan"),
        ("[x]\n[x]", "merge the two [x] sections into one"),
        ("a: 1", "TOML separates keys and values with '=', not ':'"),
        ("key", #"give the key a value, e.g. key = "value""#),
        ("t = {a = 1,}", "remove the ',' before '}'"),
        ("t = {a = 1\n}", "an inline table must be written on one line; use a [table] header for a longer table"),
        ("[ [a] ]", "an array of tables is written [[name]], with no space between the brackets"),
        ("a = [1,\n2", "the array opened on line 1 is not closed"),
        ("a = \"\"\"\n\nx", "the string starting on line 1 is not closed"),
        ("a = 1\rb = 2", "save the file with LF or CRLF line endings"),
        ("a = \"x\u{01}\"", "write it as the escape \\u0001"),
        ("a = \"C:\\path\"", "for backslashes taken as written, use a literal string: 'C:\\path'"),
    ]

    @Test(arguments: hintCases)
    func givesHint(toml: String, hint: String) throws {
        let error = try #require(TOMLTesting.error(toml))
        #expect(error.hint?.contains(hint) == true, "hint: \(error.hint ?? "nil"), message: \(error.message)")
    }

    @Test
    func duplicateKeyPointsAtSecondDefinitionAndNamesFirstLine() throws {
        let toml = """
            [tako]
            name = "one"

            [envs.production]
            route = "a.com"
            name = "x"
            route = "b.com"
            """
        let error = try #require(TOMLTesting.error(toml))
        #expect(error.message == "duplicate key 'route' (first defined on line 5)")
        #expect(error.location == TakoCore.SourceLocation(line: 7, column: 1))
    }

    @Test
    func errorsAfterMultilineStringsHaveTheRightLine() throws {
        let error = try #require(TOMLTesting.error("a = '''\n\n\n'''\nb = 1\nb = 2"))
        #expect(error.location == TakoCore.SourceLocation(line: 6, column: 1))
        #expect(error.message == "duplicate key 'b' (first defined on line 5)")
    }

    @Test
    func errorColumnsCountUnicodeScalars() throws {
        let error = try #require(TOMLTesting.error("\"日本\" = \"é\" x"))
        #expect(error.location == TakoCore.SourceLocation(line: 1, column: 12))
    }
}
