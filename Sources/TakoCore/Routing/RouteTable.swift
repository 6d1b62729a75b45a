/// Every deployed app's routes, arranged so the proxy can pick the app for a request quickly.
///
/// The table is an immutable value: the server builds a new one when routes change and publishes
/// it (see STYLE.md, `Mutex<RouteTable>`), so `match` needs no locking of its own.
///
/// Precedence, most specific first:
/// 1. an exact host before any wildcard host;
/// 2. among wildcard hosts, the nearest suffix first (`*.b.example.com` before `*.example.com`
///    for `a.b.example.com`);
/// 3. within one host pattern, an exact path, then longer path prefixes, then the whole host.
///
/// When no route of the most specific host pattern matches the path, the next host pattern gets
/// its turn, so `api.example.com/v1/*` (one app) and `*.example.com` (another) send
/// `api.example.com/v2` to the second app.
public struct RouteTable: Sendable {
    public struct Match: Hashable, Sendable {
        public var app: String
        public var pattern: RoutePattern

        public init(app: String, pattern: RoutePattern) {
            self.app = app
            self.pattern = pattern
        }
    }

    /// A route that more than one app claims. Routes that merely overlap are not conflicts —
    /// precedence decides between them — only routes that are equal once canonicalised are.
    public struct Conflict: Hashable, Sendable, CustomStringConvertible {
        public var pattern: RoutePattern
        /// Sorted, so the message and equality do not depend on dictionary order.
        public var apps: [String]

        public init(pattern: RoutePattern, apps: [String]) {
            self.pattern = pattern
            self.apps = apps.sorted()
        }

        public var description: String {
            let quoted = apps.map { "'\($0)'" }
            let claimants =
                switch quoted.count {
                case 0, 1: quoted.joined()
                case 2: "both \(quoted[0]) and \(quoted[1])"
                default: quoted.dropLast().joined(separator: ", ") + " and " + quoted[quoted.count - 1]
                }
            return "route '\(pattern)' is claimed by \(claimants)"
        }
    }

    /// Each app's routes, without repeats, in the order they were given.
    public private(set) var apps: [String: [RoutePattern]]

    // Keys are `Substring` so a lookup can use a slice of the request's host — a parent suffix
    // of `a.b.example.com` is just a range of it — without allocating a string per try.
    private var exactHosts: [Substring: [Match]]
    private var wildcardSuffixes: [Substring: [Match]]
    /// Which suffix lengths exist, so a host with many labels (hostile or not) costs a bit test
    /// per label instead of a hash of every parent suffix.
    private var wildcardSuffixLengths: LengthSet

    public init() {
        apps = [:]
        exactHosts = [:]
        wildcardSuffixes = [:]
        wildcardSuffixLengths = LengthSet()
    }

    /// Builds the table for `routes` (app name → its routes). An app may list a route twice;
    /// two apps may not share one.
    public init(_ routes: [String: [RoutePattern]]) throws(RouteTableError) {
        self.init()
        apps = routes.mapValues(Self.withoutRepeats)
        let conflicts = Self.conflicts(in: apps)
        guard conflicts.isEmpty else { throw RouteTableError(conflicts: conflicts) }

        for (app, patterns) in apps {
            for pattern in patterns {
                let match = Match(app: app, pattern: pattern)
                switch pattern.host {
                case .exact(let name):
                    exactHosts[Substring(name), default: []].append(match)
                case .wildcard(let suffix):
                    wildcardSuffixes[Substring(suffix), default: []].append(match)
                    wildcardSuffixLengths.insert(suffix.utf8.count)
                }
            }
        }
        for key in exactHosts.keys { exactHosts[key]?.sort(by: Self.isMoreSpecific) }
        for key in wildcardSuffixes.keys { wildcardSuffixes[key]?.sort(by: Self.isMoreSpecific) }
    }

    /// True when no request can match.
    public var isEmpty: Bool {
        exactHosts.isEmpty && wildcardSuffixes.isEmpty
    }

    // MARK: - Conflicts

    /// Routes claimed by more than one app, ordered by route so messages are stable.
    public static func conflicts(in routes: [String: [RoutePattern]]) -> [Conflict] {
        var owners: [RoutePattern: Set<String>] = [:]
        for (app, patterns) in routes {
            for pattern in patterns { owners[pattern, default: []].insert(app) }
        }
        return owners.filter { $0.value.count > 1 }
            .map { Conflict(pattern: $0.key, apps: Array($0.value)) }
            .sorted { $0.pattern.description < $1.pattern.description }
    }

    /// What deploying `routes` for `app` would collide with. The app's current routes are
    /// replaced by `routes`, so redeploying an app never conflicts with itself.
    public func conflicts(adding app: String, routes: [RoutePattern]) -> [Conflict] {
        var proposed = apps
        proposed[app] = routes
        return Self.conflicts(in: proposed).filter { $0.apps.contains(app) }
    }

    // MARK: - Matching

    /// The app that serves a request, or `nil` (the proxy answers 404).
    ///
    /// `host` is the raw Host header (or `:authority`), port and all; `path` the raw request
    /// target, query and all. The host is canonicalised once and the path normalised at most
    /// once, and only when some route's host matches.
    public func match(host rawHost: String, path rawPath: String) -> Match? {
        guard let host = RoutePath.canonicalHost(rawHost[...]) else { return nil }
        var normalizedPath: Substring?

        if let candidates = exactHosts[host] {
            let path = RoutePath.normalizedForMatching(rawPath[...])
            normalizedPath = path
            if let found = candidates.first(where: { $0.pattern.path.matches(path) }) { return found }
        }
        guard !wildcardSuffixes.isEmpty else { return nil }

        // Parent suffixes from nearest to farthest: for a.b.example.com, b.example.com, then
        // example.com, then com. Canonical hosts have no leading dot, so `*` always covers a label.
        let bytes = host.utf8
        let count = bytes.count
        var index = bytes.startIndex
        var offset = 0
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: ".") && wildcardSuffixLengths.contains(count - offset - 1),
                let candidates = wildcardSuffixes[host[bytes.index(after: index)...]]
            {
                let path = normalizedPath ?? RoutePath.normalizedForMatching(rawPath[...])
                normalizedPath = path
                if let found = candidates.first(where: { $0.pattern.path.matches(path) }) { return found }
            }
            bytes.formIndex(after: &index)
            offset += 1
        }
        return nil
    }

    // MARK: - Building

    private static func withoutRepeats(_ patterns: [RoutePattern]) -> [RoutePattern] {
        var seen = Set<RoutePattern>()
        return patterns.filter { seen.insert($0).inserted }
    }

    /// Precedence within one host pattern; ties (different paths of equal rank and length) are
    /// broken by the route text only so the order is the same on every run.
    private static func isMoreSpecific(_ lhs: Match, than rhs: Match) -> Bool {
        let left = lhs.pattern.path.specificity
        let right = rhs.pattern.path.specificity
        if left != right { return left > right }
        return lhs.pattern.description < rhs.pattern.description
    }
}

/// A set of small integers (host suffix lengths, at most 253) as a 256-bit bitmap.
private struct LengthSet: Sendable {
    private var words: [UInt64] = [0, 0, 0, 0]

    mutating func insert(_ length: Int) {
        // Longer suffixes cannot match: canonical request hosts are at most 253 bytes.
        guard length >= 0 && length < 256 else { return }
        words[length >> 6] |= 1 << UInt64(length & 63)
    }

    func contains(_ length: Int) -> Bool {
        guard length >= 0 && length < 256 else { return false }
        return words[length >> 6] & (1 << UInt64(length & 63)) != 0
    }
}
