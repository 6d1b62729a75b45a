/// Every deployed app's routes, arranged so the proxy can pick the app for a request quickly.
///
/// The table is an immutable value: the server builds a new one when routes change and publishes
/// it (see STYLE.md, `Locked<RouteTable>`), so `match` needs no locking of its own.
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
    public let apps: [String: [RoutePattern]]
    private let index: Index

    public init() {
        apps = [:]
        index = Index(exactHosts: [:], wildcardSuffixes: [:])
    }

    /// Builds the table for `routes` (app name → its routes). An app may list a route twice;
    /// two apps may not share one.
    public init(_ routes: [String: [RoutePattern]]) throws(RouteTableError) {
        let apps = routes.mapValues(Self.withoutRepeats)
        let conflicts = Self.conflicts(in: apps)
        guard conflicts.isEmpty else { throw RouteTableError(conflicts: conflicts) }

        var exact: [String: [Match]] = [:]
        var wildcard: [String: [Match]] = [:]
        for (app, patterns) in apps {
            for pattern in patterns {
                let match = Match(app: app, pattern: pattern)
                switch pattern.host {
                case .exact(let name): exact[name, default: []].append(match)
                case .wildcard(let suffix): wildcard[suffix, default: []].append(match)
                }
            }
        }
        self.apps = apps
        index = Index(
            exactHosts: exact.mapValues { $0.sorted(by: Self.isMoreSpecific) },
            wildcardSuffixes: wildcard.mapValues { $0.sorted(by: Self.isMoreSpecific) }
        )
    }

    /// True when no request can match.
    public var isEmpty: Bool {
        index.isEmpty
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
        let index = self.index
        return RoutePath.withCanonicalHost(rawHost) { host -> Match? in
            guard var candidates = index.candidates(for: host, after: nil) else { return nil }
            return RoutePath.withNormalizedPath(rawPath) { path -> Match? in
                while true {
                    if let found = candidates.routes.first(where: { $0.pattern.path.matches(path) }) { return found }
                    guard let next = index.candidates(for: host, after: candidates.position) else { return nil }
                    candidates = next
                }
            }
        }
    }

    /// The match of every request to `host`, whatever its path, or nil when the path can
    /// change the answer (or no route covers the host).
    ///
    /// Non-nil only when the most specific host pattern covering `host` has one route and it
    /// takes the whole host (`example.com`): such a route matches every path, so `match` would
    /// answer the same for any. Most apps are routed this way, and the proxy remembers the
    /// answer per connection instead of matching every request again.
    public func matchAnyPath(host rawHost: String) -> Match? {
        let index = self.index
        return RoutePath.withCanonicalHost(rawHost) { host -> Match? in
            guard let candidates = index.candidates(for: host, after: nil), candidates.routes.count == 1,
                candidates.routes[0].pattern.path == .any
            else { return nil }
            return candidates.routes[0]
        }
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

/// The lookup structures, immutable and behind one reference, so copying a table — or capturing
/// it in the matching closures — costs one retain.
private final class Index: Sendable {
    private let exactHosts: HostIndex
    private let wildcardSuffixes: HostIndex
    /// Which suffix lengths exist, so a host with many labels (hostile or not) costs a bit test
    /// per label instead of a hash of every parent suffix.
    private let wildcardSuffixLengths: LengthSet

    init(exactHosts: [String: [RouteTable.Match]], wildcardSuffixes: [String: [RouteTable.Match]]) {
        self.exactHosts = HostIndex(exactHosts)
        self.wildcardSuffixes = HostIndex(wildcardSuffixes)
        var lengths = LengthSet()
        for suffix in wildcardSuffixes.keys { lengths.insert(suffix.utf8.count) }
        wildcardSuffixLengths = lengths
    }

    var isEmpty: Bool { exactHosts.isEmpty && wildcardSuffixes.isEmpty }

    /// The routes of the next host pattern that covers `host`, in precedence order: the exact
    /// host (position -1), then wildcard suffixes from nearest to farthest (position: the offset
    /// of the dot in front of the suffix) — for a.b.example.com, b.example.com, then example.com,
    /// then com. Canonical hosts have no leading dot, so `*` always covers at least one label.
    func candidates(
        for host: UnsafeBufferPointer<UInt8>,
        after position: Int?
    ) -> (routes: [RouteTable.Match], position: Int)? {
        if position == nil, let routes = exactHosts.routes(for: host) { return (routes, -1) }
        guard !wildcardSuffixes.isEmpty else { return nil }
        var offset = (position ?? -1) + 1
        while offset < host.count {
            if host[offset] == UInt8(ascii: "."), wildcardSuffixLengths.contains(host.count - offset - 1),
                let routes = wildcardSuffixes.routes(for: UnsafeBufferPointer(rebasing: host[(offset + 1)...]))
            {
                return (routes, offset)
            }
            offset += 1
        }
        return nil
    }
}

/// A set of small integers (host suffix lengths, at most 253) as a 256-bit bitmap.
private struct LengthSet: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    mutating func insert(_ length: Int) {
        // Longer suffixes cannot match: canonical request hosts are at most 253 bytes.
        guard length >= 0 && length < 256 else { return }
        let bit: UInt64 = 1 << UInt64(length & 63)
        switch length >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    func contains(_ length: Int) -> Bool {
        guard length >= 0 && length < 256 else { return false }
        let word =
            switch length >> 6 {
            case 0: words.0
            case 1: words.1
            case 2: words.2
            default: words.3
            }
        return word & (1 << UInt64(length & 63)) != 0
    }
}

/// Host name → routes, looked up by the bytes of a canonical request host. A wildcard lookup tries
/// several suffixes of one host; this way none of them needs a `String`, a `Substring` or a SipHash.
///
/// Open addressing with linear probing over FNV-1a. Only configured hosts are keys, so a client
/// cannot lengthen probe chains; the table is at most half full.
private struct HostIndex: Sendable {
    private var slots: [Int]  // 0: empty; n: the n-th key
    private var hashes: [UInt64] = []
    private var keys: [[UInt8]] = []
    private var values: [[RouteTable.Match]] = []

    init(_ routes: [String: [RouteTable.Match]]) {
        var capacity = 8
        while capacity < routes.count * 2 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        for (key, matches) in routes {
            let bytes = Array(key.utf8)
            let hash = bytes.withUnsafeBufferPointer(Self.hash)
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            hashes.append(hash)
            keys.append(bytes)
            values.append(matches)
            slots[slot] = keys.count
        }
    }

    var isEmpty: Bool { keys.isEmpty }

    func routes(for key: UnsafeBufferPointer<UInt8>) -> [RouteTable.Match]? {
        guard !keys.isEmpty else { return nil }
        let hash = Self.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            let entry = slots[slot] - 1
            if hashes[entry] == hash && keys[entry].withUnsafeBufferPointer({ $0.elementsEqual(key) }) {
                return values[entry]
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
