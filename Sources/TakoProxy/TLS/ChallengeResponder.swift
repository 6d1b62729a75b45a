import TakoCore

/// Answers ACME HTTP-01 challenges (RFC 8555 §8.3): while the ACME client validates a name,
/// `GET /.well-known/acme-challenge/{token}` on plain HTTP, for any host, answers the key
/// authorization. Unknown tokens fall through to the app (it may run its own ACME client).
public final class ChallengeResponder: Sendable {
    private let tokens = Locked<[String: String]>([:])

    public init() {}

    public func add(token: String, keyAuthorization: String) {
        tokens.withLock { $0[token] = keyAuthorization }
    }

    public func remove(token: String) {
        _ = tokens.withLock { $0.removeValue(forKey: token) }
    }

    /// The key authorization for a request target, if it is a pending challenge.
    func answer(for target: String) -> String? {
        guard target.hasPrefix(HTTPSRedirect.challengePrefix) else { return nil }
        let token = target.dropFirst(HTTPSRedirect.challengePrefix.count)
        guard !token.isEmpty, !token.contains("/"), !token.contains("?") else { return nil }
        return tokens.withLock { $0[String(token)] }
    }
}
