/// The block `tako dev` keeps in `/etc/hosts` on Linux so browsers resolve dev names with no
/// further setup: loopback for every registered host, between two marker lines. Everything
/// else in the file stays byte for byte as it was; an empty host list removes the block.
public enum HostsBlock {
    public static let begin = "# BEGIN tako dev (managed by tako: do not edit)"
    public static let end = "# END tako dev"

    /// `text` with the block set to `hosts` (sorted; none removes it).
    public static func update(_ text: String, hosts: Set<String>) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let hadTrailingNewline = text.hasSuffix("\n")
        if hadTrailingNewline { lines.removeLast() }
        // Every block is dropped (a file edited by hand may hold two); the new one goes where
        // the first stood, or at the end.
        var position: Int?
        var kept: [String] = []
        var inside = false
        for line in lines {
            if line == begin {
                inside = true
                position = position ?? kept.count
                continue
            }
            if inside {
                if line == end { inside = false }
                continue
            }
            kept.append(line)
        }
        if !hosts.isEmpty {
            let names = hosts.map { $0.lowercased() }.sorted()
            var block = [begin]
            // One name per line keeps each line short; both families so AAAA-first resolvers agree.
            for name in names {
                block.append("127.0.0.1 \(name)")
                block.append("::1 \(name)")
            }
            block.append(end)
            kept.insert(contentsOf: block, at: position ?? kept.count)
        }
        let joined = kept.joined(separator: "\n")
        return joined.isEmpty ? "" : joined + (hadTrailingNewline || position == nil ? "\n" : "")
    }

    /// The hosts the block in `text` names.
    public static func hosts(in text: String) -> Set<String> {
        var inside = false
        var names: Set<String> = []
        for line in text.split(separator: "\n") {
            if line == begin { inside = true; continue }
            if line == end { inside = false; continue }
            if inside, let name = line.split(separator: " ").last { names.insert(String(name)) }
        }
        return names
    }
}
