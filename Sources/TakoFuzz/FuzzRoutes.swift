import TakoCore

/// Lines of route patterns, alternately for two apps, then lookups: each line is also tried
/// as a `host/path` to match.
enum FuzzRoutes {
    static func run(_ data: [UInt8]) {
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).prefix(64)
        var routes: [String: [RoutePattern]] = [:]
        for (index, line) in lines.enumerated() {
            guard let pattern = try? RoutePattern(String(line)) else { continue }
            routes[index % 2 == 0 ? "a" : "b", default: []].append(pattern)
            // A pattern's own host and path are matched by it, unless it is a wildcard.
            _ = pattern.matches(host: String(line.prefix { $0 != "/" }), path: "/")
        }
        guard let table = try? RouteTable(routes) else { return }
        for line in lines {
            let host = String(line.prefix { $0 != "/" })
            let path = String(line.dropFirst(host.count))
            _ = table.match(host: host, path: path.isEmpty ? "/" : path)
        }
    }
}
