/// An error whose identity is its code: equality and hashing look at `code` only, so a test
/// can expect a kind of failure (`#expect(throws: SecretsError.invalidKey)`) while the
/// message stays free to say more.
public protocol CodedError: UserFacingError, Hashable {
    associatedtype Code: Hashable
    var code: Code { get }
}

extension CodedError {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
