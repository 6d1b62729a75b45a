/// A TOML value.
public enum TOMLValue: Hashable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// An offset date-time, local date-time, local date or local time: the validated literal
    /// exactly as written (separator and `Z` keep their case; a space separator stays a space).
    case datetime(String)
    case array([TOMLNode])
    case table(TOMLTable)

    /// The name of the value's type for error messages: "string", "integer", "float",
    /// "boolean", "datetime", "array" or "table".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .datetime: "datetime"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A value together with where it is written.
public struct TOMLNode: Hashable, Sendable {
    public var value: TOMLValue
    /// Where the value begins: its first character (the opening quote, `[` or `{`, the sign
    /// of a number). For a table defined by a `[header]` or `[[header]]`, that header's `[`;
    /// for an array of tables, its first `[[header]]`; for a table created implicitly by a
    /// header or dotted key, the key segment that first implied it.
    public var location: SourceLocation
}
