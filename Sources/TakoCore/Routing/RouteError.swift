/// A route a user wrote that Tako cannot serve. The config loader adds the file and key; this
/// says what is wrong with the route itself and, in the hint, what to write instead.
public struct RouteError: UserFacingError, Hashable, Sendable {
    /// The route exactly as the user wrote it.
    public var route: String
    public var message: String
    public var hint: String?

    public init(route: String, message: String, hint: String? = nil) {
        self.route = route
        self.message = message
        self.hint = hint
    }
}

/// A set of routes that two or more apps claim; the deploy that would create it is refused.
public struct RouteTableError: UserFacingError, Hashable, Sendable {
    public var conflicts: [RouteTable.Conflict]

    public init(conflicts: [RouteTable.Conflict]) {
        self.conflicts = conflicts
    }

    public var message: String {
        if conflicts.count == 1 { return conflicts[0].description }
        let list = conflicts.map(\.description).joined(separator: "; ")
        return "\(conflicts.count) routes are claimed by more than one app: \(list)"
    }

    public var hint: String? {
        "each route belongs to one app: change or remove it in all but one of them "
            + "(routes that only overlap, like 'example.com' and 'example.com/api/*', are fine)"
    }
}

// MARK: - The messages, in one place so they read alike

extension RouteError {
    static func empty(_ route: String) -> Self {
        .init(
            route: route,
            message: "a route is empty",
            hint: "write a host such as 'example.com' or 'example.com/api/*'"
        )
    }

    static func whitespace(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' contains whitespace or a control character",
            hint: "remove it; a route is a host with an optional path, as in 'example.com/api/*'"
        )
    }

    static func scheme(_ route: String, scheme: String, withoutScheme: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' includes the scheme '\(scheme)://'",
            hint: "drop the scheme and write '\(withoutScheme)'; Tako serves the route over HTTPS itself"
        )
    }

    static func noHost(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has no host",
            hint: "put the host in front of the path, as in 'example.com\(route.hasPrefix("/") ? route : "/" + route)'"
        )
    }

    static func port(_ route: String, port: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' includes the port ':\(port)'",
            hint: "remove ':\(port)'; routes match requests on any port"
        )
    }

    static func ipv6(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' uses an IPv6 address as its host",
            hint: "routes match host names and IPv4 addresses; point a name at the server and route that"
        )
    }

    static func wildcardWithoutDomain(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a wildcard with no domain after it",
            hint: "a wildcard needs a domain, as in '*.example.com'"
        )
    }

    static func wildcardNotWholeLabel(_ route: String, suggestion: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a wildcard that is not followed by a dot",
            hint: "a wildcard stands for whole labels; write '\(suggestion)' to match every subdomain"
        )
    }

    static func wildcardInsideHost(_ route: String, atEnd: Bool) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a wildcard \(atEnd ? "at the end" : "in the middle") of the host",
            hint: "a wildcard may only be a leading '*.' as in '*.example.com', which also covers deeper subdomains"
        )
    }

    static func nonASCIIHost(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a host with non-ASCII characters",
            hint: "write an internationalised name in its punycode form ('xn--…')"
        )
    }

    static func hostCharacter(_ route: String, character: Character) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has the character '\(character)' in its host",
            hint: "a host may contain only letters, digits, hyphens and dots"
        )
    }

    static func emptyLabel(_ route: String, leadingDot: Bool, host: Substring) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has an empty label (two dots in a row, or a dot at the start) in its host",
            hint: leadingDot
                ? "to match subdomains write '*\(host)'; otherwise remove the leading dot"
                : "remove the extra dot"
        )
    }

    static func labelTooLong(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a host label longer than 63 characters",
            hint: "each part of a host name between dots may be at most 63 characters"
        )
    }

    static func labelHyphen(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a host label that starts or ends with a hyphen",
            hint: "a hyphen may only appear inside a label, as in 'my-app.example.com'"
        )
    }

    static func hostTooLong(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a host longer than 253 characters",
            hint: "use a shorter host name; DNS does not allow longer ones"
        )
    }

    static func pathWildcard(_ route: String, suggestion: String?) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a path wildcard that is not a final '/*'",
            hint: suggestion.map { "end the path with '/*' to match everything below it, as in '\($0)'" }
                ?? "a path wildcard may only be the final '/*'; wildcards inside a path are not supported"
        )
    }

    static func queryOrFragment(_ route: String, part: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' includes a \(part)",
            hint: "routes match the path only; remove everything from '\(part == "query string" ? "?" : "#")' on"
        )
    }

    static func pathCharacter(_ route: String, character: Character) -> Self {
        // Name non-ASCII characters by code point too: some look like ASCII or are invisible.
        let codePoints = character.unicodeScalars.filter { !$0.isASCII }.map { scalar in
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        let shown = codePoints.isEmpty ? "'\(character)'" : "'\(character)' (\(codePoints.joined(separator: " ")))"
        return .init(
            route: route,
            message: "route '\(route)' has the character \(shown) in its path",
            hint: "percent-encode it (a space is '%20'); a path may hold letters, digits, '-._~', '/' and !$&'()+,;=:@"
        )
    }

    static func badEscape(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a '%' that is not followed by two hex digits",
            hint: "write '%25' for a literal '%'"
        )
    }

    static func dotSegment(_ route: String) -> Self {
        .init(
            route: route,
            message: "route '\(route)' has a '.' or '..' segment in its path",
            hint: "write the path it stands for without dot-segments; requests are matched after removing them"
        )
    }
}
