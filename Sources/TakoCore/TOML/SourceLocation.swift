/// A position in a source text: a 1-based line and a 1-based column.
///
/// Columns count Unicode scalars from the start of the line, so `é` is one column however
/// many UTF-8 bytes it takes, and a tab is one column. A UTF-8 byte order mark at the very
/// start of a document is not counted. Lines are separated by LF or CRLF.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The line, starting at 1.
    public var line: Int
    /// The column in Unicode scalars, starting at 1.
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `"line:column"`, e.g. `"7:3"`.
    public var description: String { "\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}
