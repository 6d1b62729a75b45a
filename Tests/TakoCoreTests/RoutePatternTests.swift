import TakoTestSupport
import Testing

@testable import TakoCore

@Suite struct RoutePatternTests {
    typealias Host = RoutePattern.Host
    typealias Path = RoutePattern.Path

    // MARK: - Parsing

    @Test(arguments: [
        ("example.com", "example.com", Host.exact("example.com"), Path.any),
        ("example.com/*", "example.com", .exact("example.com"), .any),
        ("example.com/", "example.com", .exact("example.com"), .any),
        ("example.com//*", "example.com", .exact("example.com"), .any),
        ("Example.COM", "example.com", .exact("example.com"), .any),
        ("example.com.", "example.com", .exact("example.com"), .any),
        ("*.example.com", "*.example.com", .wildcard(suffix: "example.com"), .any),
        ("*.Example.com/*", "*.example.com", .wildcard(suffix: "example.com"), .any),
        ("*.com", "*.com", .wildcard(suffix: "com"), .any),
        ("example.com/api/*", "example.com/api/*", .exact("example.com"), .prefix("/api")),
        ("example.com/api//*", "example.com/api/*", .exact("example.com"), .prefix("/api")),
        ("example.com//api/v1/*", "example.com/api/v1/*", .exact("example.com"), .prefix("/api/v1")),
        ("*.example.com/api/*", "*.example.com/api/*", .wildcard(suffix: "example.com"), .prefix("/api")),
        ("example.com/api", "example.com/api", .exact("example.com"), .exact("/api")),
        ("example.com/api/", "example.com/api/", .exact("example.com"), .exact("/api/")),
        ("example.com/API", "example.com/API", .exact("example.com"), .exact("/API")),
        ("example.com/%7euser", "example.com/~user", .exact("example.com"), .exact("/~user")),
        ("example.com/a%2fb/*", "example.com/a%2Fb/*", .exact("example.com"), .prefix("/a%2Fb")),
        ("example.com/a%20b", "example.com/a%20b", .exact("example.com"), .exact("/a%20b")),
        ("example.com/.well-known/*", "example.com/.well-known/*", .exact("example.com"), .prefix("/.well-known")),
        ("example.com/a..b", "example.com/a..b", .exact("example.com"), .exact("/a..b")),
        ("example.com/a://b", "example.com/a:/b", .exact("example.com"), .exact("/a:/b")),
        (
            "example.com/!$&'()+,;=:@-._~", "example.com/!$&'()+,;=:@-._~", .exact("example.com"),
            .exact("/!$&'()+,;=:@-._~")
        ),
        ("127.0.0.1", "127.0.0.1", .exact("127.0.0.1"), .any),
        ("localhost/x/*", "localhost/x/*", .exact("localhost"), .prefix("/x")),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", .exact("xn--bcher-kva.de"), .any),
        ("my-app.tako.local", "my-app.tako.local", .exact("my-app.tako.local"), .any),
    ])
    func parsesToCanonicalForm(route: String, description: String, host: Host, path: Path) throws {
        let pattern = try RoutePattern(route)
        #expect(pattern.host == host)
        #expect(pattern.path == path)
        #expect(pattern.description == description)
        #expect(try RoutePattern(pattern.description) == pattern, "the description parses back to the same route")
    }

    @Test(arguments: [
        ("example.com", "example.com/*"),
        ("example.com", "Example.com"),
        ("example.com", "example.com/"),
        ("example.com", "EXAMPLE.COM./*"),
        ("*.A.com/x/*", "*.a.com/x/*"),
        ("example.com/api/*", "example.com//api//*"),
        ("example.com/%41", "example.com/A"),
        ("example.com/a%2f", "example.com/a%2F"),
    ])
    func equivalentSpellingsAreEqual(first: String, second: String) throws {
        let a = try RoutePattern(first)
        let b = try RoutePattern(second)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.description == b.description)
    }

    @Test(arguments: [
        ("example.com", "*.example.com"),
        ("example.com/api", "example.com/api/"),
        ("example.com/api", "example.com/api/*"),
        ("example.com/api", "example.com/API"),
        ("example.com/a%2Fb", "example.com/a/b"),
        ("a.example.com", "example.com"),
    ])
    func differentRoutesAreNotEqual(first: String, second: String) throws {
        #expect(try RoutePattern(first) != RoutePattern(second))
    }

    @Test(arguments: [
        ("example.com", "example.com"),
        ("*.example.com/api/*", "*.example.com"),
        ("example.com/api", "example.com"),
    ])
    func hostNameIsTheHostPart(route: String, hostName: String) throws {
        #expect(try RoutePattern(route).hostName == hostName)
    }

    // MARK: - Validation

    @Test(arguments: [
        ("", "a route is empty", "write a host"),
        ("/api/*", "route '/api/*' has no host", "'example.com/api/*'"),
        ("/", "has no host", "example.com/"),
        (".", "has no host", "put the host"),
        ("https://example.com", "includes the scheme 'https://'", "write 'example.com'"),
        ("https://a.com:8080/api/*", "includes the scheme 'https://'", "write 'a.com/api/*'"),
        ("http://Example.com/api/*", "includes the scheme 'http://'", "write 'example.com/api/*'"),
        ("https://", "includes the scheme 'https://'", "drop the scheme"),
        ("example.com:8080", "route 'example.com:8080' includes the port ':8080'", "any port"),
        ("*.example.com:443/api/*", "includes the port ':443'", "remove ':443'"),
        ("example.com:", "the character ':' in its host", "letters, digits"),
        ("[::1]", "IPv6", "host names"),
        (
            "api.*.example.com", "route 'api.*.example.com' has a wildcard in the middle of the host",
            "leading '*.'"
        ),
        ("*.*.example.com", "in the middle of the host", "leading '*.'"),
        ("a*.example.com", "in the middle of the host", "leading '*.'"),
        ("**.example.com", "in the middle of the host", "leading '*.'"),
        ("example.*", "wildcard at the end of the host", "leading '*.'"),
        ("example.com*", "wildcard at the end of the host", "leading '*.'"),
        ("*example.com", "not followed by a dot", "'*.example.com'"),
        ("*example.com/api/*", "not followed by a dot", "'*.example.com/api/*'"),
        ("*", "no domain after it", "'*.example.com'"),
        ("*.", "no domain after it", "'*.example.com'"),
        ("*./api/*", "no domain after it", "'*.example.com'"),
        (
            "example.com/api*", "route 'example.com/api*' has a path wildcard that is not a final '/*'",
            "'example.com/api/*'"
        ),
        ("example.com/*/x", "not a final '/*'", "only be the final '/*'"),
        ("example.com/a*b", "not a final '/*'", "only be the final '/*'"),
        ("example.com/**", "not a final '/*'", "only be the final '/*'"),
        ("example.com/*/*", "not a final '/*'", "only be the final '/*'"),
        ("ex_ample.com", "the character '_' in its host", "letters, digits, hyphens and dots"),
        ("user@example.com", "the character '@' in its host", "letters, digits"),
        ("bücher.de", "non-ASCII", "punycode"),
        ("example..com", "empty label", "remove the extra dot"),
        (".example.com", "empty label", "'*.example.com'"),
        ("example.com..", "empty label", "remove the extra dot"),
        ("*..example.com", "empty label", "remove the extra dot"),
        (String(repeating: "a", count: 64) + ".com", "longer than 63 characters", "at most 63"),
        ("-api.example.com", "starts or ends with a hyphen", "inside a label"),
        ("api-.example.com", "starts or ends with a hyphen", "inside a label"),
        (
            [String](repeating: String(repeating: "a", count: 50), count: 6).joined(separator: "."),
            "longer than 253 characters", "shorter host"
        ),
        ("example.com/a b", "contains whitespace", "remove it"),
        (" example.com", "contains whitespace", "remove it"),
        ("example.com\n", "contains whitespace", "remove it"),
        ("example.com/a\u{0}", "control character", "remove it"),
        ("example.com/api?x=1", "includes a query string", "from '?' on"),
        ("example.com/api#top", "includes a fragment", "from '#' on"),
        ("example.com/\"x\"", "the character '\"' in its path", "percent-encode"),
        ("example.com/a<b>", "the character '<' in its path", "percent-encode"),
        ("example.com/a\\b", "the character '\\' in its path", "percent-encode"),
        ("example.com/café", "the character 'é' (U+00E9) in its path", "percent-encode"),
        ("example.com/a|b", "the character '|' in its path", "percent-encode"),
        ("example.com/100%", "'%' that is not followed by two hex digits", "'%25'"),
        ("example.com/%zz", "'%' that is not followed by two hex digits", "'%25'"),
        ("example.com/a/../b", "route 'example.com/a/../b' has a '.' or '..' segment in its path", "dot-segments"),
        ("example.com/./api/*", "'.' or '..' segment", "dot-segments"),
        ("example.com/api/..", "'.' or '..' segment", "dot-segments"),
        ("example.com/api/%2e%2E/*", "'.' or '..' segment", "dot-segments"),
        ("example.com/api/.%2e", "'.' or '..' segment", "dot-segments"),
    ])
    func rejectsInvalidRoute(route: String, message: String, hint: String) {
        #expect {
            try RoutePattern(route)
        } throws: { error in
            guard let error = error as? RouteError else { return false }
            return error.route == route && error.message.contains(message) && (error.hint ?? "").contains(hint)
        }
    }

    @Test func errorDescriptionShowsMessageThenHint() {
        #expect {
            try RoutePattern("https://example.com")
        } throws: { error in
            (error as? RouteError)?.description == """
                route 'https://example.com' includes the scheme 'https://'
                hint: drop the scheme and write 'example.com'; Tako serves the route over HTTPS itself
                """
        }
    }

    @Test func acceptsHostOfMaximumLength() throws {
        let label = String(repeating: "a", count: 63)
        let host = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(host.count == 253)
        #expect(try RoutePattern(host).hostName == host)
        #expect(throws: RouteError.self) { try RoutePattern("*." + host) }
    }

    /// Random route text from the characters that matter: parsing must never trap, every
    /// rejection must name the route and say what to do, and every accepted route must print as
    /// a canonical form that parses back to itself.
    @Test func parsingRandomTextEitherRejectsClearlyOrRoundTrips() {
        let alphabet: [String] = [
            "a", "B", "7", "-", ".", ".", "*", "*.", "/", "/", "/*", ":", "8", "%", "%2e", "%2F",
            "?", "#", " ", "_", "é", "~", "@", "[", "]", "https://", "..", "xn--", ";",
        ]
        var generator = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...10, using: &generator)
            let route = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined()
            do {
                let pattern = try RoutePattern(route)
                #expect(try RoutePattern(pattern.description) == pattern, "\(route.debugDescription)")
                #expect(pattern.hostName == pattern.hostName.lowercased())
            } catch {
                #expect(error.route == route)
                #expect(!error.message.isEmpty && error.hint != nil, "\(route.debugDescription)")
            }
        }
    }

    // MARK: - Matching

    @Test(arguments: [
        // Prefix paths cover the prefix itself, with or without a slash, and everything below.
        ("example.com/api/*", "example.com", "/api", true),
        ("example.com/api/*", "example.com", "/api/", true),
        ("example.com/api/*", "example.com", "/api/anything/deeper", true),
        ("example.com/api/*", "example.com", "/api?x=1", true),
        ("example.com/api/*", "example.com", "/apix", false),
        ("example.com/api/*", "example.com", "/ap", false),
        ("example.com/api/*", "example.com", "/", false),
        ("example.com/api/*", "example.com", "/API", false),
        ("example.com/api/v1/*", "example.com", "/api/v1/x", true),
        ("example.com/api/v1/*", "example.com", "/api/v2", false),
        // Exact paths.
        ("example.com/api", "example.com", "/api", true),
        ("example.com/api", "example.com", "/api?page=2", true),
        ("example.com/api", "example.com", "/api/", false),
        ("example.com/api", "example.com", "/api/x", false),
        ("example.com/api/", "example.com", "/api/", true),
        ("example.com/api/", "example.com", "/api", false),
        // Normalisation happens before matching: dot-segments cannot escape a prefix...
        ("example.com/api/*", "example.com", "/api/../admin", false),
        ("example.com/api/*", "example.com", "/api/%2e%2e/admin", false),
        ("example.com/admin/*", "example.com", "/api/../admin/x", true),
        ("example.com/admin/*", "example.com", "/api/%2E%2E/admin", true),
        ("example.com/admin/*", "example.com", "//admin//users", true),
        ("example.com/api/*", "example.com", "/../api", true),
        // ...and an encoded slash is not a separator.
        ("example.com/api/*", "example.com", "/api%2Fx", false),
        ("example.com/api/*", "example.com", "/api/..%2Fadmin", true),
        ("example.com/a%2Fb", "example.com", "/a%2fb", true),
        ("example.com/a%2Fb", "example.com", "/a/b", false),
        ("example.com/api", "example.com", "/%61pi", true),
        // A lookalike of ';' (U+037E, canonically equivalent) is not ';'.
        ("example.com/a;b", "example.com", "/a\u{37E}b", false),
        ("example.com/a;b", "example.com", "/a;b", true),
        // Hosts: case-insensitive, port and trailing dot ignored.
        ("example.com", "example.com", "/", true),
        ("example.com", "Example.COM:8443", "/", true),
        ("example.com", "example.com.", "/x", true),
        ("example.com", "example.com.:80", "/x", true),
        ("example.com", "www.example.com", "/", false),
        ("example.com", "example.co", "/", false),
        ("example.com", "xexample.com", "/", false),
        ("example.com", "[::1]:8080", "/", false),
        ("example.com", "", "/", false),
        ("127.0.0.1", "127.0.0.1:8080", "/", true),
        // Wildcards: any depth below the suffix, never the suffix itself.
        ("*.example.com", "a.example.com", "/", true),
        ("*.example.com", "a.b.example.com", "/x", true),
        ("*.example.com", "A.Example.Com:443", "/", true),
        ("*.example.com", "example.com", "/", false),
        ("*.example.com", ".example.com", "/", false),
        ("*.example.com", "aexample.com", "/", false),
        ("*.example.com", "a.example.com.evil.test", "/", false),
        ("*.example.com/api/*", "a.example.com", "/api/x", true),
        ("*.example.com/api/*", "a.example.com", "/web", false),
    ])
    func matchesRequest(route: String, host: String, path: String, expected: Bool) throws {
        #expect(try RoutePattern(route).matches(host: host, path: path) == expected)
    }
}
