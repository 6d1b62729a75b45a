import TakoCore

/// Counts each client address's requests in flight to apps, across every connection and
/// event loop, and refuses those over `limit` (429): one client with thousands of
/// connections cannot take every instance's capacity. Striped locks keep event loops from
/// waiting on each other; a count that drops to zero leaves the table.
final class ClientRequestLimiter: Sendable {
    let limit: Int
    private let stripes: [Stripe]

    private final class Stripe: Sendable {
        let counts = Locked<[String: Int]>([:])
    }

    init(limit: Int, stripes: Int = 32) {
        self.limit = limit
        self.stripes = (0..<max(1, stripes)).map { _ in Stripe() }
    }

    /// Takes a slot for `client`; false (and nothing taken) when it has `limit` already.
    func acquire(_ client: String) -> Bool {
        guard limit > 0 else { return true }
        return stripe(client).counts.withLock { counts in
            let current = counts[client, default: 0]
            guard current < limit else { return false }
            counts[client] = current + 1
            return true
        }
    }

    func release(_ client: String) {
        guard limit > 0 else { return }
        stripe(client).counts.withLock { counts in
            guard let current = counts[client] else { return }
            counts[client] = current > 1 ? current - 1 : nil
        }
    }

    /// Requests in flight for `client` (tests).
    func inFlight(_ client: String) -> Int {
        stripe(client).counts.withLock { $0[client, default: 0] }
    }

    private func stripe(_ client: String) -> Stripe {
        stripes[Int(UInt(bitPattern: client.hashValue) % UInt(stripes.count))]
    }
}
