/// An error a person can act on: one sentence saying what went wrong and, where there is
/// one, a hint saying what to do about it.
///
/// Every error that can reach a user conforms. The CLI prints `message` and `hint` and
/// exits non-zero; it never prints a Swift type name or a stack trace.
public protocol UserFacingError: Error, CustomStringConvertible {
    /// What went wrong, as one sentence.
    var message: String { get }
    /// What to do about it, when there is something to do.
    var hint: String? { get }
}

extension UserFacingError {
    public var description: String {
        guard let hint else { return message }
        return "\(message)\nhint: \(hint)"
    }
}

/// A user error that is only a sentence and a hint: for refusals that need no code to tell
/// them apart (see `CodedError` for those that do).
public struct UserError: UserFacingError, Sendable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
