/// A parsed TOML document: its root table and the table headers it contains.
public struct TOMLDocument: Hashable, Sendable {
    /// A `[table]` or `[[array.of.tables]]` header line.
    public struct Header: Hashable, Sendable {
        /// The unquoted key segments: `["envs", "production"]` for `[envs.production]`.
        public var path: [String]
        /// Whether the header is `[[...]]`.
        public var isArray: Bool
        /// The 1-based line the header is on.
        public var line: Int
    }

    public var root: TOMLTable
    /// Every table header in document order.
    public var headers: [Header]
}
