import Testing

@testable import TakoCore

private func loc(_ line: Int, _ column: Int) -> TakoCore.SourceLocation {
    TakoCore.SourceLocation(line: line, column: column)
}

/// Where keys, values, tables and headers are recorded, and the small API of the value types.
struct TOMLParserLocationTests {
    // MARK: Locations

    static let locatedDocument = """
        # comment
        name = "tako"
        [server]
        port = 8080
          [envs.production]
        route = "a.com"
        site."x.com".on = true
        [[servers]]
        name = "a"
        [[servers]]
        name = "b"
        """

    @Test
    func recordsKeyAndValueLocations() throws {
        let document = try TOMLParser.parse(Self.locatedDocument)
        let name = try #require(document.root.entry("name"))
        #expect(name.keyLocation == loc(2, 1))
        #expect(name.node.location == loc(2, 8))
        #expect(TOMLTesting.entry(document, "server", "port")?.keyLocation == loc(4, 1))
        #expect(TOMLTesting.entry(document, "server", "port")?.node.location == loc(4, 8))
        #expect(TOMLTesting.entry(document, "envs", "production", "route")?.keyLocation == loc(6, 1))
    }

    @Test
    func recordsHeaderTableLocations() throws {
        let document = try TOMLParser.parse(Self.locatedDocument)
        #expect(document.root.location == loc(1, 1))
        let server = try #require(document.root.entry("server"))
        #expect(server.keyLocation == loc(3, 1))
        #expect(server.node.location == loc(3, 1))
        #expect(TOMLTesting.table(server.node)?.location == loc(3, 1))
        // `envs` is only implied by `[envs.production]`: located at that segment.
        let envs = try #require(document.root.entry("envs"))
        #expect(envs.keyLocation == loc(5, 4))
        #expect(TOMLTesting.table(envs.node)?.location == loc(5, 4))
        let production = try #require(TOMLTesting.entry(document, "envs", "production"))
        #expect(production.keyLocation == loc(5, 3))
        #expect(production.node.location == loc(5, 3))
    }

    @Test
    func recordsDottedKeyLocations() throws {
        let document = try TOMLParser.parse(Self.locatedDocument)
        let site = try #require(TOMLTesting.entry(document, "envs", "production", "site"))
        #expect(site.keyLocation == loc(7, 1))
        #expect(TOMLTesting.table(site.node)?.location == loc(7, 1))
        let domain = try #require(TOMLTesting.entry(document, "envs", "production", "site", "x.com"))
        #expect(domain.keyLocation == loc(7, 6))
        let on = try #require(TOMLTesting.entry(document, "envs", "production", "site", "x.com", "on"))
        #expect(on.keyLocation == loc(7, 14))
        #expect(on.node.location == loc(7, 19))
    }

    @Test
    func recordsArrayOfTablesLocations() throws {
        let document = try TOMLParser.parse(Self.locatedDocument)
        let servers = try #require(document.root.entry("servers"))
        #expect(servers.keyLocation == loc(8, 1))
        #expect(servers.node.location == loc(8, 1))
        let elements = try #require(TOMLTesting.array(servers.node))
        #expect(elements.map(\.location) == [loc(8, 1), loc(10, 1)])
        #expect(elements.compactMap { TOMLTesting.table($0)?.location } == [loc(8, 1), loc(10, 1)])
        #expect(TOMLTesting.table(elements.last)?.entry("name")?.keyLocation == loc(11, 1))
    }

    @Test
    func listsEveryHeaderInOrder() throws {
        let document = try TOMLParser.parse(Self.locatedDocument)
        let expected = [
            TOMLDocument.Header(path: ["server"], isArray: false, line: 3),
            TOMLDocument.Header(path: ["envs", "production"], isArray: false, line: 5),
            TOMLDocument.Header(path: ["servers"], isArray: true, line: 8),
            TOMLDocument.Header(path: ["servers"], isArray: true, line: 10),
        ]
        #expect(document.headers == expected)
    }

    @Test
    func headersKeepQuotedSegmentsUnquoted() throws {
        let document = try TOMLParser.parse("[ a . \"b.c\" . 'd' ]\n\n[[ x ]]")
        #expect(document.headers == [
            TOMLDocument.Header(path: ["a", "b.c", "d"], isArray: false, line: 1),
            TOMLDocument.Header(path: ["x"], isArray: true, line: 3),
        ])
    }

    @Test
    func implicitTableTakesHeaderLocationOnceDefined() throws {
        let document = try TOMLParser.parse("[a.b]\nx = 1\n\n[a]\ny = 2")
        let a = try #require(document.root.entry("a"))
        #expect(a.keyLocation == loc(4, 1))
        #expect(TOMLTesting.table(a.node)?.location == loc(4, 1))
        #expect(TOMLTesting.table(a.node)?.keys == ["b", "y"])
    }

    @Test
    func recordsInlineTableAndArrayElementLocations() throws {
        let document = try TOMLParser.parse("t = { a = 1, b = [10, \"x\"] }\nlist = [\n  1,\n    {k = 2},\n]")
        let t = try #require(document.root["t"])
        #expect(t.location == loc(1, 5))
        #expect(TOMLTesting.table(t)?.location == loc(1, 5))
        #expect(TOMLTesting.entry(document, "t", "b")?.keyLocation == loc(1, 14))
        #expect(TOMLTesting.array(TOMLTesting.entry(document, "t", "b")?.node)?.map(\.location) == [loc(1, 19), loc(1, 23)])
        let list = try #require(TOMLTesting.array(document.root["list"]))
        #expect(list.map(\.location) == [loc(3, 3), loc(4, 5)])
        #expect(TOMLTesting.table(list.last)?.entry("k")?.keyLocation == loc(4, 6))
    }

    @Test
    func countsLinesInsideMultilineValues() throws {
        let toml = "a = \"\"\"\none\ntwo\"\"\"\nb = '''\r\nx\r\n'''\nc = [\n1,\n2]\nd = 4"
        let document = try TOMLParser.parse(toml)
        #expect(document.root.entry("b")?.keyLocation == loc(4, 1))
        #expect(document.root.entry("c")?.keyLocation == loc(7, 1))
        #expect(document.root.entry("d")?.keyLocation == loc(10, 1))
        #expect(document.root.entry("d")?.node.location == loc(10, 5))
    }

    @Test
    func countsColumnsInUnicodeScalars() throws {
        let document = try TOMLParser.parse("\"é😀\" = \"ü\"\n\t\tk = 1")
        let entry = try #require(document.root.entry("é😀"))
        #expect(entry.keyLocation == loc(1, 1))
        #expect(entry.node.location == loc(1, 8))
        #expect(document.root.entry("k")?.keyLocation == loc(2, 3))
    }

    // MARK: The value types

    @Test
    func tableLooksUpKeysInDefinitionOrder() throws {
        let document = try TOMLParser.parse("b = 1\na = \"x\"\n[c]")
        #expect(document.root.keys == ["b", "a", "c"])
        #expect(document.root["a"]?.value == .string("x"))
        #expect(document.root.entry("b")?.node.value == .integer(1))
        #expect(document.root["missing"] == nil)
        #expect(document.root.entry("missing") == nil)
        let empty = TOMLTable(location: loc(3, 4))
        #expect(empty.entries.isEmpty && empty.keys.isEmpty && empty.location == loc(3, 4))
    }

    @Test
    func namesValueTypes() throws {
        let document = try TOMLParser.parse(
            "s = 'x'\ni = 1\nf = 1.5\nb = true\nd = 1979-05-27\na = []\nt = {}")
        #expect(document.root.entries.map(\.node.value.typeName)
            == ["string", "integer", "float", "boolean", "datetime", "array", "table"])
    }

    @Test
    func sourceLocationsDescribeAndOrder() {
        #expect(loc(7, 3).description == "7:3")
        #expect(loc(1, 9) < loc(2, 1))
        #expect(loc(2, 1) < loc(2, 2))
        #expect(!(loc(2, 2) < loc(2, 2)))
        #expect(max(loc(3, 1), loc(2, 40)) == loc(3, 1))
    }

    @Test
    func errorDescriptionIncludesHint() throws {
        let error = try #require(TOMLTesting.error("name = my-app"))
        #expect(error.message == "expected a value for key 'name', found 'my-app'")
        #expect(error.hint == #"strings must be quoted: name = "my-app""#)
        #expect(error.location == loc(1, 8))
        #expect(error.description == "expected a value for key 'name', found 'my-app'\nhint: strings must be quoted: name = \"my-app\"")
    }
}
