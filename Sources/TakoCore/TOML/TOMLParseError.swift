/// Why a TOML document could not be parsed, and where.
///
/// `message` is one sentence naming what was found and what was expected; `location` is
/// the offending character (for a duplicate key: the second definition, with the line of
/// the first in the message). The location is not part of `description`, so callers can
/// prefix it in their own format, e.g. `tako.toml:7: duplicate key 'name' (first defined on line 3)`.
public struct TOMLParseError: UserFacingError, Hashable, Sendable {
    /// What went wrong, as one sentence.
    public var message: String
    /// Where it went wrong.
    public var location: SourceLocation
    /// What to do about it, where there is something useful to say.
    public var hint: String?
}
