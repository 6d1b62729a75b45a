/// One validated route: which hosts and which paths an app answers.
///
/// Values are canonical, so two spellings of the same route are equal (`Example.com`,
/// `example.com/*`, `example.com/` and `example.com.` are one value); the deploy conflict check
/// and the route table rely on that equality. Parsing and validation live in
/// `RoutePattern+Parsing.swift`; request normalisation lives in ``RoutePath``.
public struct RoutePattern: Hashable, Sendable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        /// A lower-cased host name or IPv4 address, without a trailing dot.
        case exact(String)
        /// `*.suffix`: every name below `suffix`, at any depth, but not `suffix` itself.
        case wildcard(suffix: String)
    }

    public enum Path: Hashable, Sendable {
        /// Every path (`example.com`, `example.com/*`, `example.com/`).
        case any
        /// `/api` from `/api/*`: `/api` itself and everything below it, never `/apix`.
        /// Never empty, never ends with `/`.
        case prefix(String)
        /// Exactly this normalised path; `/api/` and `/api` are different exact paths.
        case exact(String)
    }

    public var host: Host
    public var path: Path

    /// Most callers parse with ``init(_:)``; this is for values already known to be canonical.
    init(host: Host, path: Path) {
        self.host = host
        self.path = path
    }

    /// The canonical route, as users should see it and as it is stored.
    public var description: String {
        switch path {
        case .any: hostName
        case .prefix(let prefix): hostName + prefix + "/*"
        case .exact(let exact): hostName + exact
        }
    }

    public var hostName: String {
        switch host {
        case .exact(let name): name
        case .wildcard(let suffix): "*." + suffix
        }
    }

    /// Whether a request for `host` (a Host header, port allowed) and `path` (a request target,
    /// query allowed) belongs to this route. ``RouteTable`` decides between several routes.
    public func matches(host rawHost: String, path rawPath: String) -> Bool {
        let hostMatches = RoutePath.withCanonicalHost(rawHost) { host.matches($0) } ?? false
        return hostMatches && RoutePath.withNormalizedPath(rawPath) { path.matches($0) }
    }
}

// MARK: - Matching against normalised input

// Comparisons run on UTF-8 bytes, not `String ==`: Unicode canonical equivalence would make a
// request path holding U+037E (Greek question mark) equal to a route containing ';'.

extension RoutePattern.Host {
    /// `host` comes from ``RoutePath/withCanonicalHost(_:_:)``: lower-cased ASCII, no empty labels.
    func matches(_ host: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .exact(let name):
            return host.count == name.utf8.count && RoutePath.hasPrefix(host, name)
        case .wildcard(let suffix):
            // At least one character and a dot in front of the suffix.
            let suffixStart = host.count - suffix.utf8.count
            guard suffixStart >= 2, host[suffixStart - 1] == UInt8(ascii: ".") else { return false }
            return RoutePath.hasPrefix(UnsafeBufferPointer(rebasing: host[suffixStart...]), suffix)
        }
    }
}

extension RoutePattern.Path {
    /// `path` comes from ``RoutePath/withNormalizedPath(_:_:)``.
    func matches(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .any:
            return true
        case .exact(let exact):
            return path.count == exact.utf8.count && RoutePath.hasPrefix(path, exact)
        case .prefix(let prefix):
            guard RoutePath.hasPrefix(path, prefix) else { return false }
            // The prefix must end at a segment boundary: "/api" covers "/api/x" but not "/apix".
            let length = prefix.utf8.count
            return length == path.count || path[length] == UInt8(ascii: "/") || prefix.utf8.last == UInt8(ascii: "/")
        }
    }

    /// Orders the routes of one host so that the first match is the most specific: exact paths,
    /// then prefixes from longest to shortest, then the catch-all. An exact path can only match a
    /// request at least as long as any prefix that also matches it, so exact always goes first.
    var specificity: (rank: Int, length: Int) {
        switch self {
        case .exact(let exact): (2, exact.utf8.count)
        case .prefix(let prefix): (1, prefix.utf8.count)
        case .any: (0, 0)
        }
    }
}
