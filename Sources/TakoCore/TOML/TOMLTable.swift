/// A TOML table: keys in the order they were first defined, each with its location.
public struct TOMLTable: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        /// The key segment, unquoted and unescaped.
        public var key: String
        /// Where the key is written: the key in `a = 1`, the last segment of a dotted key,
        /// or the `[` of the header for a table defined by a `[header]` (for an array of
        /// tables, its first `[[header]]`). For a table created implicitly (`a` in `[a.b]`
        /// or in `a.b = 1`), the segment that first implied it.
        public var keyLocation: SourceLocation
        public var node: TOMLNode
    }

    /// The entries, in order of first definition.
    public var entries: [Entry]
    /// The root table: 1:1. A table defined by a header: the header's `[`. A table created
    /// implicitly: the key segment that first implied it. An inline table: its `{`.
    public var location: SourceLocation

    /// An empty table.
    public init(location: SourceLocation) {
        self.entries = []
        self.location = location
    }

    /// The node stored under `key`, if any.
    public subscript(key: String) -> TOMLNode? {
        entry(key)?.node
    }

    /// The entry for `key`, if any.
    public func entry(_ key: String) -> Entry? {
        for entry in entries where entry.key == key {
            return entry
        }
        return nil
    }

    /// The keys, in order of first definition.
    public var keys: [String] { entries.map(\.key) }
}
