import TakoTestSupport
import Testing

@testable import TakoCore

@Suite struct RouteTableTests {
    /// Every precedence rule in one table; each app name says which route should win.
    static let routes: [String: [String]] = [
        "exact-host": ["example.com"],
        "exact-api": ["example.com/api/*"],
        "exact-api-v1": ["example.com/api/v1/*"],
        "exact-path": ["example.com/api/v1/status"],
        "exact-slash": ["example.com/docs/"],
        "wild": ["*.example.com"],
        "wild-admin": ["*.example.com/admin/*"],
        "wild-b": ["*.b.example.com"],
        "api-host-v1": ["api.example.com/v1/*"],
        "deep-only": ["*.deep.test/x/*"],
        "deeper": ["*.c.deep.test/y/*"],
        "ip": ["127.0.0.1/*"],
        "multi": ["one.test", "two.test/app/*", "two.test"],
    ]

    static func table() throws -> RouteTable {
        try RouteTable(routes.mapValues { try $0.map(RoutePattern.init) })
    }

    /// The proxy remembers a host's answer for every path only when the path cannot change it.
    @Test(arguments: [
        ("one.test", "multi"), ("ONE.test:8080", "multi"), ("x.b.example.com", "wild-b"), ("127.0.0.1:80", "ip"),
        ("example.com", nil), ("two.test", nil), ("a.example.com", nil), ("api.example.com", nil), ("nowhere.test", nil),
    ] as [(String, String?)])
    func matchAnyPathOnlyWhenThePathCannotMatter(host: String, app: String?) throws {
        let table = try Self.table()
        let match = table.matchAnyPath(host: host)
        #expect(match?.app == app)
        // Whatever it answers, it is what `match` answers for any path.
        if let match {
            for path in ["/", "/api/v1/status", "/admin/x", "/app/y", "/v1/z"] {
                #expect(table.match(host: host, path: path) == match)
            }
        }
    }

    @Test(arguments: [
        // Exact host; longer prefix beats shorter; exact path beats prefix.
        ("example.com", "/", "exact-host"),
        ("example.com", "/anything", "exact-host"),
        ("example.com", "/apix", "exact-host"),
        ("example.com", "/api", "exact-api"),
        ("example.com", "/api/", "exact-api"),
        ("example.com", "/api/users?id=1", "exact-api"),
        ("example.com", "/api/v1", "exact-api-v1"),
        ("example.com", "/api/v1/status", "exact-path"),
        ("example.com", "/api/v1/status/", "exact-api-v1"),
        ("example.com", "/api/v1/status/x", "exact-api-v1"),
        ("example.com", "/docs/", "exact-slash"),
        ("example.com", "/docs", "exact-host"),
        // Normalisation decides before precedence does.
        ("example.com", "/api/../admin", "exact-host"),
        ("example.com", "/api/v1/../../api/v1/status", "exact-path"),
        ("example.com", "//api//v1//status", "exact-path"),
        ("Example.COM:443", "/api/%76%31/status#x", "exact-path"),
        ("example.com.", "/api", "exact-api"),
        // An exact host beats every wildcard, even one with a longer path.
        ("api.example.com", "/v1/x", "api-host-v1"),
        // ...but when its routes miss the path, the wildcard gets the request.
        ("api.example.com", "/v2", "wild"),
        ("api.example.com", "/admin/x", "wild-admin"),
        ("api.example.com", "/v1/../admin", "wild-admin"),
        // Wildcards: any depth; the nearest suffix wins; then fall through to farther suffixes.
        ("a.example.com", "/", "wild"),
        ("a.b.c.example.com", "/admin", "wild-admin"),
        ("a.c.b.example.com", "/admin", "wild-b"),
        ("x.a.example.com", "/admin/", "wild-admin"),
        ("b.example.com", "/", "wild"),
        ("a.b.example.com", "/", "wild-b"),
        ("a.b.example.com", "/admin/x", "wild-b"),
        ("a.c.deep.test", "/y/1", "deeper"),
        ("a.c.deep.test", "/x/1", "deep-only"),
        ("c.deep.test", "/x/1", "deep-only"),
        // One app, several routes.
        ("one.test", "/", "multi"),
        ("two.test", "/app/x", "multi"),
        ("two.test", "/other", "multi"),
        ("127.0.0.1:47831", "/x", "ip"),
    ])
    func routesToMostSpecificMatch(host: String, path: String, app: String) throws {
        #expect(try Self.table().match(host: host, path: path)?.app == app)
    }

    @Test(arguments: [
        ("example.org", "/"),
        ("deep.test", "/x/1"),
        ("a.deep.test", "/y/1"),
        ("a.c.deep.test", "/z"),
        ("c.deep.test", "/y/1"),
        ("com", "/"),
        ("", "/"),
        (":443", "/"),
        ("[::1]:8080", "/"),
        ("[::1", "/"),
        ("[", "/"),
        ("]:80", "/"),
        ("::1", "/"),
        (".example.com", "/"),
        ("a..example.com", "/"),
        ("example.com..", "/"),
        ("exa mple.com", "/"),
        ("\u{212A}.example.com", "/"),
        ("exämple.com", "/"),
        ("example.com\u{0}", "/"),
        (String(repeating: "a.", count: 200) + "example.com", "/"),
        (String(repeating: "x", count: 10_000), "/"),
    ])
    func answersNothingForUnknownOrMalformedHosts(host: String, path: String) throws {
        #expect(try Self.table().match(host: host, path: path) == nil)
    }

    /// Sizes no client should send, but one might: no trap, no quadratic blow-up, same answer.
    @Test func survivesHugeHostileRequests() throws {
        let table = try Self.table()
        let climb = String(repeating: "%2e%2E/..//./", count: 100_000)
        #expect(table.match(host: "example.com", path: "/api/v1/" + climb + "api/v1/status")?.app == "exact-path")
        #expect(
            table.match(host: "example.com", path: "/" + String(repeating: "a/", count: 500_000))?.app == "exact-host"
        )
        #expect(table.match(host: "example.com", path: String(repeating: "%", count: 300_000))?.app == "exact-host")
        #expect(table.match(host: String(repeating: "a.", count: 500_000) + "example.com", path: "/") == nil)
        #expect(
            table.match(host: "example.com:" + String(repeating: "9", count: 100_000), path: "/")?.app == "exact-host"
        )
    }

    @Test func matchReportsTheWinningPattern() throws {
        let match = try Self.table().match(host: "a.b.example.com", path: "/")
        #expect(match == RouteTable.Match(app: "wild-b", pattern: try RoutePattern("*.b.example.com")))
    }

    @Test func emptyTableMatchesNothing() throws {
        #expect(RouteTable().isEmpty)
        #expect(RouteTable().match(host: "example.com", path: "/") == nil)
        #expect(try RouteTable([:]).isEmpty)
        #expect(try RouteTable(["idle": []]).isEmpty)
        #expect(try !Self.table().isEmpty)
    }

    // MARK: - Conflicts

    @Test(arguments: [
        ("Example.com", "example.com/*"),
        ("example.com", "example.com/"),
        ("*.A.com/x/*", "*.a.com/x/*"),
        ("example.com/api/*", "EXAMPLE.com//api/*"),
        ("example.com/a%2f", "example.com/a%2F"),
        ("example.com.", "example.com"),
    ])
    func identicalRoutesOfTwoAppsConflict(first: String, second: String) throws {
        let routes = ["b": [try RoutePattern(second)], "a": [try RoutePattern(first)]]
        let expected = RouteTable.Conflict(pattern: try RoutePattern(first), apps: ["b", "a"])
        #expect(RouteTable.conflicts(in: routes) == [expected])
        #expect(throws: RouteTableError(conflicts: [expected])) { try RouteTable(routes) }
        #expect(RouteTable().conflicts(adding: "b", routes: routes["b"]!).isEmpty)
        #expect(try RouteTable(["a": routes["a"]!]).conflicts(adding: "b", routes: routes["b"]!) == [expected])
    }

    @Test(arguments: [
        ("example.com", "*.example.com"),
        ("example.com", "example.com/api/*"),
        ("example.com/api/*", "example.com/api"),
        ("example.com/api", "example.com/api/"),
        ("example.com/api/*", "example.com/api/v1/*"),
        ("*.example.com", "*.b.example.com"),
        ("a.example.com", "*.example.com"),
        ("example.com/API", "example.com/api"),
    ])
    func overlappingRoutesDoNotConflict(first: String, second: String) throws {
        let routes = ["a": [try RoutePattern(first)], "b": [try RoutePattern(second)]]
        #expect(RouteTable.conflicts(in: routes).isEmpty)
        #expect(try !RouteTable(routes).isEmpty)
    }

    @Test func anAppMayRepeatItsOwnRoute() throws {
        let table = try RouteTable([
            "a": try ["example.com", "Example.com/*", "x.test", "example.com/"].map(RoutePattern.init)
        ])
        #expect(table.apps == ["a": [try RoutePattern("example.com"), try RoutePattern("x.test")]])
        #expect(table.match(host: "example.com", path: "/")?.app == "a")
    }

    @Test func redeployingAnAppReplacesItsRoutes() throws {
        let table = try RouteTable([
            "a": [try RoutePattern("example.com")],
            "b": [try RoutePattern("other.test")],
        ])
        #expect(
            table.conflicts(adding: "a", routes: [try RoutePattern("example.com"), try RoutePattern("new.test")])
                .isEmpty
        )
        #expect(
            table.conflicts(adding: "c", routes: [try RoutePattern("other.test/*"), try RoutePattern("free.test")])
                == [RouteTable.Conflict(pattern: try RoutePattern("other.test"), apps: ["c", "b"])]
        )
        // A route that only "a" had before is free once "a" gives it up.
        #expect(table.conflicts(adding: "a", routes: []).isEmpty)
    }

    @Test func conflictsNameEveryClaimantInOrder() throws {
        let route = try RoutePattern("example.com")
        let routes = [
            "c": [route], "a": [route], "b": [route, try RoutePattern("b.test")], "d": [try RoutePattern("b.test")],
        ]
        let conflicts = RouteTable.conflicts(in: routes)
        #expect(
            conflicts.map(\.description) == [
                "route 'b.test' is claimed by both 'b' and 'd'",
                "route 'example.com' is claimed by 'a', 'b' and 'c'",
            ]
        )
        let error = RouteTableError(conflicts: conflicts)
        #expect(error.message == "2 routes are claimed by more than one app: \(conflicts[0]); \(conflicts[1])")
        #expect(error.hint?.contains("change or remove it") == true)
        #expect(RouteTableError(conflicts: [conflicts[0]]).message == "route 'b.test' is claimed by both 'b' and 'd'")
    }

    // MARK: - Against a reference

    /// The table must pick exactly what a brute-force search over all routes picks: among the
    /// routes that match, the most specific host (exact, then longer wildcard suffix), then the
    /// most specific path.
    @Test func agreesWithBruteForceOnRandomRequests() throws {
        let table = try Self.table()
        let all = table.apps.flatMap { app, patterns in patterns.map { RouteTable.Match(app: app, pattern: $0) } }
        let hosts = [
            "example.com", "api.example.com", "a.b.example.com", "b.example.com", "c.deep.test", "a.c.deep.test",
            "two.test", "one.test", "127.0.0.1", "x.example.com", "EXAMPLE.com:80", "nope.test", "deep.test",
        ]
        let pieces = ["/", "api", "v1", "status", "admin", "x", "y", "app", "docs", "..", ".", "%2e", "?q", "//", "v2"]
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let host = hosts.randomElement(using: &generator)!
            let path = (0..<Int.random(in: 0...6, using: &generator))
                .map { _ in pieces.randomElement(using: &generator)! }.joined(separator: "/")
            let expected = all.filter { $0.pattern.matches(host: host, path: path) }.max {
                score($0).lexicographicallyPrecedes(score($1))
            }
            #expect(table.match(host: host, path: path) == expected, "\(host) \(path)")
        }
    }

    private func score(_ match: RouteTable.Match) -> [Int] {
        let host: Int =
            switch match.pattern.host {
            case .exact: 1_000
            case .wildcard(let suffix): suffix.count
            }
        let path = match.pattern.path.specificity
        return [host, path.rank, path.length]
    }
}
