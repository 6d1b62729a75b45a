import TakoTestSupport
import Testing

@testable import TakoCore

@Suite struct RoutePathTests {
    @Test(arguments: [
        // Already normal: returned as is.
        ("/", "/"),
        ("/api", "/api"),
        ("/api/", "/api/"),
        ("/api/v1/users", "/api/v1/users"),
        ("/.well-known/acme-challenge/x", "/.well-known/acme-challenge/x"),
        ("/a..b/c.", "/a..b/c."),
        // Empty or relative.
        ("", "/"),
        ("api", "/api"),
        ("*", "/*"),
        // Query and fragment are not part of the path.
        ("/api?x=1", "/api"),
        ("/api/?x=/../admin", "/api/"),
        ("/api#frag", "/api"),
        ("?x=1", "/"),
        ("/a/..?x", "/"),
        // Repeated slashes merge.
        ("//", "/"),
        ("//api///v1//", "/api/v1/"),
        // Dot-segments (RFC 3986 §5.2.4).
        ("/api/../admin", "/admin"),
        ("/api/./v1", "/api/v1"),
        ("/api/v1/..", "/api/"),
        ("/api/v1/.", "/api/v1/"),
        ("/..", "/"),
        ("/../../etc/passwd", "/etc/passwd"),
        ("/a/b/../../../c", "/c"),
        ("/a/./../b/./", "/b/"),
        ("/a//..//b", "/b"),
        ("/./", "/"),
        ("/...", "/..."),
        // Escaped dots are dots.
        ("/api/%2e%2e/admin", "/admin"),
        ("/api/%2E%2E/admin", "/admin"),
        ("/api/.%2e/admin", "/admin"),
        ("/api/%2e/x", "/api/x"),
        // Other unreserved escapes are decoded; everything else only gets upper-case hex.
        ("/%61pi", "/api"),
        ("/%7euser", "/~user"),
        ("/a%20b", "/a%20b"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        // %2F stays encoded: it must not create a segment (or a dot-segment).
        ("/api%2F..%2Fadmin", "/api%2F..%2Fadmin"),
        ("/api/..%2f", "/api/..%2F"),
        ("/a/%2F/b", "/a/%2F/b"),
        // A stray '%' is encoded, so normalising again changes nothing.
        ("/100%", "/100%25"),
        ("/%zz", "/%25zz"),
        ("/%%34%31", "/%2541"),
        ("/%2", "/%252"),
        // Case is kept; bytes outside ASCII are kept.
        ("/API/Users", "/API/Users"),
        ("/café/..", "/"),
        ("/ü/./x", "/ü/x"),
    ])
    func normalizesPath(raw: String, expected: String) {
        #expect(RoutePath.normalize(raw) == expected)
        #expect(RoutePath.normalize(Substring(raw)) == expected)
        #expect(RoutePath.normalize(expected) == expected, "normalising is idempotent")
    }

    @Test func normalizingASubstringIgnoresTheRestOfItsString() {
        let target = "GET /api/../admin?x HTTP/1.1"
        let start = target.index(target.startIndex, offsetBy: 4)
        let end = target.index(target.endIndex, offsetBy: -9)
        #expect(RoutePath.normalize(target[start..<end]) == "/admin")
    }

    @Test(arguments: [
        ("example.com", "example.com"),
        ("example.com:8443", "example.com"),
        ("Example.COM:443", "Example.COM"),
        ("example.com:", "example.com"),
        ("example.com:abc", "example.com"),
        ("[::1]:8080", "[::1]"),
        ("[::1]", "[::1]"),
        ("[2001:db8::1]:443", "[2001:db8::1]"),
        ("[::1", "[::1"),
        ("::1", ""),
        ("", ""),
        (":80", ""),
        ("127.0.0.1:8080", "127.0.0.1"),
    ])
    func stripsPort(raw: String, expected: String) {
        #expect(RoutePath.hostWithoutPort(raw[...]) == expected[...])
    }

    @Test(
        arguments: [
            ("example.com", "example.com"),
            ("Example.COM:8443", "example.com"),
            ("example.com.", "example.com"),
            ("EXAMPLE.com.:80", "example.com"),
            ("my_box.example.com", "my_box.example.com"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("localhost", "localhost"),
        ] as [(String, String?)] + [
            ("[::1]:8080", nil),
            ("[::1]", nil),
            ("", nil),
            (".", nil),
            ("..", nil),
            (":8080", nil),
            (".example.com", nil),
            ("a..example.com", nil),
            ("example.com..", nil),
            ("exa mple.com", nil),
            ("example.com/", nil),
            ("bücher.de", nil),
            ("\u{212A}.example.com", nil),  // KELVIN SIGN, canonically equivalent to "K"
            (String(repeating: "a", count: 254), nil),
        ]
    )
    func canonicalizesHost(raw: String, expected: String?) {
        #expect(canonicalHost(raw) == expected)
    }

    @Test func acceptsHostOfMaximumLength() {
        let host = [String](repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(host.utf8.count == 255)
        #expect(canonicalHost(host) == nil)
        let shorter = String(host.dropFirst(2))
        #expect(canonicalHost(shorter) == shorter)
    }

    /// Random paths built from the bytes that matter: the output must always be a rooted path
    /// without empty or dot segments, query or fragment, or decodable escapes, and normalising
    /// it again must change nothing. Debug builds bounds-check every buffer write on the way.
    @Test func normalizedPathsKeepTheirInvariantsUnderRandomInput() {
        let alphabet: [String] = [
            "/", "/", "/", ".", ".", "%", "2", "e", "E", "f", "F", "%2e", "%2F", "%41", "a", "?",
            "#", "ü", "\u{0}", " ", "\\", ";", "\u{37E}", "~", "%%", "..", "//",
        ]
        var generator = SplitMix64(seed: 0x7A4C0)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...14, using: &generator)
            let raw = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined()
            let normalized = RoutePath.normalize(raw)
            let context = Comment(rawValue: "raw: \(raw.debugDescription) → \(normalized.debugDescription)")

            #expect(normalized.hasPrefix("/"), context)
            #expect(
                !normalized.utf8.contains(UInt8(ascii: "?")) && !normalized.utf8.contains(UInt8(ascii: "#")),
                context
            )
            let segments = normalized.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            let inner = normalized.hasSuffix("/") ? segments.dropLast() : segments[...]
            #expect(!inner.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), context)
            #expect(RoutePath.normalize(normalized) == normalized, context)
            #expect(RoutePath.normalize(Substring(raw)) == normalized, context)
            #expect(escapesAreCanonical(normalized), context)
        }
    }

    private func canonicalHost(_ raw: String) -> String? {
        RoutePath.withCanonicalHost(raw) { String(decoding: $0, as: UTF8.self) }
    }

    private func escapesAreCanonical(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "%") {
            guard index + 2 < bytes.count else { return false }
            let hex = bytes[index + 1...index + 2]
            guard
                hex.allSatisfy({
                    RoutePath.hexValue($0) != nil && !(UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
                })
            else { return false }
            if RoutePath.isUnreserved(RoutePath.hexValue(hex.first!)! << 4 | RoutePath.hexValue(hex.last!)!) {
                return false
            }
        }
        return true
    }
}
