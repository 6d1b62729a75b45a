// Parsing runs when config is loaded and at deploy, never per request, so it favours clear
// messages over speed. Each rejection names the route as written and says what to write instead.

extension RoutePattern {
    /// Parses and validates a route as written in tako.toml.
    ///
    /// Accepted spellings are folded into one canonical value: the host is lower-cased and loses
    /// one trailing dot, a path (or `/*`) that covers everything becomes ``Path/any``, repeated
    /// slashes are merged, escapes of unreserved characters are decoded and other escapes get
    /// upper-case hex. A trailing slash is kept: `example.com/api/` is the exact path `/api/`,
    /// which `/api` does not match. A lone `/` (`example.com/`) is read as the whole host,
    /// because that is how a pasted URL ends, not as a request for the root page only.
    public init(_ route: String) throws(RouteError) {
        guard !route.isEmpty else { throw .empty(route) }
        if route.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw .whitespace(route)
        }
        if let (scheme, rest) = Self.splitScheme(route) {
            let suggestion = (try? RoutePattern(Self.droppingPort(rest)))?.description ?? rest
            throw .scheme(route, scheme: scheme, withoutScheme: suggestion)
        }

        let slash = route.firstIndex(of: "/") ?? route.endIndex
        let rawHost = route[..<slash]
        let rawPath = route[slash...]
        guard !rawHost.isEmpty else { throw .noHost(route) }

        let host = try Self.parseHost(rawHost, route: route)
        let path = rawPath.isEmpty ? Path.any : try Self.parsePath(rawPath, host: rawHost, route: route)
        self.init(host: host, path: path)
    }

    /// `https://example.com` → ("https", "example.com"): a `://` where the host should end. A
    /// host cannot contain `:/`, so that can only be a scheme the user pasted along.
    private static func splitScheme(_ route: String) -> (scheme: String, rest: String)? {
        guard let slash = route.firstIndex(of: "/"), slash > route.startIndex,
            route[route.index(before: slash)] == ":", route[route.index(after: slash)...].hasPrefix("/")
        else { return nil }
        let scheme = route[..<route.index(before: slash)]
        let rest = route[route.index(slash, offsetBy: 2)...]
        return (String(scheme), String(rest))
    }

    /// `a.com:8080/x` → `a.com/x`, for suggestions: routes match any port.
    private static func droppingPort(_ route: String) -> String {
        let slash = route.firstIndex(of: "/") ?? route.endIndex
        guard let colon = route[..<slash].lastIndex(of: ":"),
            route[route.index(after: colon)..<slash].allSatisfy(\.isASCIIDigit)
        else { return route }
        return String(route[..<colon] + route[slash...])
    }

    // MARK: - Host

    private static func parseHost(_ rawHost: Substring, route: String) throws(RouteError) -> Host {
        if rawHost.first == "[" { throw .ipv6(route) }
        if let colon = rawHost.lastIndex(of: ":") {
            let port = rawHost[rawHost.index(after: colon)...]
            if !port.isEmpty && port.allSatisfy(\.isASCIIDigit) { throw .port(route, port: String(port)) }
            throw .hostCharacter(route, character: ":")
        }

        var name = rawHost
        var isWildcard = false
        if name == "*" || name == "*." {
            throw .wildcardWithoutDomain(route)
        } else if name.hasPrefix("*.") {
            isWildcard = true
            name = name.dropFirst(2)
        } else if name.hasPrefix("*") && !name.dropFirst().contains("*") {
            throw .wildcardNotWholeLabel(route, suggestion: "*." + name.dropFirst() + route[rawHost.endIndex...])
        }
        if name.contains("*") { throw .wildcardInsideHost(route, atEnd: name.hasSuffix("*")) }

        // A fully qualified name ("example.com.") is the same host; requests get the same treatment.
        if name.hasSuffix(".") && name.count > 1 { name = name.dropLast() }
        if name.isEmpty || name == "." {
            throw isWildcard ? .wildcardWithoutDomain(route) : .noHost(route)
        }
        try validateHostName(name, isWildcard: isWildcard, route: route)

        let lowered = name.lowercased()
        return isWildcard ? .wildcard(suffix: lowered) : .exact(lowered)
    }

    /// RFC 1123 names: labels of letters, digits and inner hyphens, 1–63 long, 253 in all.
    /// IPv4 addresses pass as all-digit labels.
    private static func validateHostName(_ name: Substring, isWildcard: Bool, route: String) throws(RouteError) {
        if !name.unicodeScalars.allSatisfy(\.isASCII) { throw .nonASCIIHost(route) }
        if let bad = name.first(where: { !($0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == ".") }) {
            throw .hostCharacter(route, character: bad)
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if let empty = labels.firstIndex(where: \.isEmpty) {
            throw .emptyLabel(route, leadingDot: empty == 0 && !isWildcard, host: name)
        }
        if labels.contains(where: { $0.count > 63 }) { throw .labelTooLong(route) }
        if labels.contains(where: { $0.hasPrefix("-") || $0.hasSuffix("-") }) { throw .labelHyphen(route) }
        if name.count + (isWildcard ? 2 : 0) > 253 { throw .hostTooLong(route) }
    }

    // MARK: - Path

    private static func parsePath(
        _ rawPath: Substring,
        host rawHost: Substring,
        route: String
    ) throws(RouteError) -> Path {
        let isPrefix = rawPath.hasSuffix("/*")
        try validatePathCharacters(rawPath, isPrefix: isPrefix, host: rawHost, route: route)

        // Keep the slash in front of "*": "/api/*" → "/api/", normalised and then trimmed below.
        let body = isPrefix ? rawPath.dropLast() : rawPath
        if body.split(separator: "/").contains(where: isDotSegment) { throw .dotSegment(route) }

        let normalized = RoutePath.normalize(body)
        if isPrefix {
            let prefix = normalized.hasSuffix("/") ? String(normalized.dropLast()) : normalized
            return prefix.isEmpty ? .any : .prefix(prefix)
        }
        return normalized == "/" ? .any : .exact(normalized)
    }

    private static func validatePathCharacters(
        _ rawPath: Substring,
        isPrefix: Bool,
        host rawHost: Substring,
        route: String
    ) throws(RouteError) {
        let scalars = Array(rawPath.unicodeScalars)
        for (offset, scalar) in scalars.enumerated() {
            switch scalar {
            case "?":
                throw .queryOrFragment(route, part: "query string")
            case "#":
                throw .queryOrFragment(route, part: "fragment")
            case "*":
                if isPrefix && offset == scalars.count - 1 { continue }
                // "/api*" almost certainly meant "/api/*"; say so. Elsewhere there is no obvious fix.
                let isTrailing = offset == scalars.count - 1
                let suggestion = isTrailing ? rawHost + rawPath.dropLast() + "/*" : nil
                throw .pathWildcard(route, suggestion: suggestion.map(String.init))
            case "%":
                let isEscape =
                    offset + 2 < scalars.count
                    && [scalars[offset + 1], scalars[offset + 2]].allSatisfy {
                        $0.isASCII && RoutePath.hexValue(UInt8($0.value)) != nil
                    }
                if !isEscape { throw .badEscape(route) }
            default:
                if !isAllowedInPath(scalar) { throw .pathCharacter(route, character: Character(scalar)) }
            }
        }
    }

    /// RFC 3986 pchar without `*` (the wildcard) and without escapes (checked by the caller).
    private static func isAllowedInPath(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let byte = UInt8(scalar.value)
        return RoutePath.isUnreserved(byte) || "/!$&'()+,;=:@".utf8.contains(byte)
    }

    /// `.`, `..` and their escaped spellings (`%2e`, `.%2E`) — what RFC 3986 §5.2.4 would remove.
    private static func isDotSegment(_ segment: Substring) -> Bool {
        var rest = segment[...]
        var dots = 0
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
            } else if rest.hasPrefix("%2e") || rest.hasPrefix("%2E") {
                rest = rest.dropFirst(3)
            } else {
                return false
            }
            dots += 1
        }
        return dots == 1 || dots == 2
    }
}

extension Character {
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
