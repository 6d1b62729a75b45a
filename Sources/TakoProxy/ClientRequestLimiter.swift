import Synchronization
import TakoCore

/// Counts each client address's requests in flight to apps, across every connection and
/// event loop, and refuses those over `limit` (429): one client with thousands of
/// connections cannot take every instance's capacity.
///
/// A connection looks its client up once (`register`, under one of several striped locks);
/// each request then costs an atomic add and subtract on the client's shared counter, with no
/// hashing or locking. A client leaves the table with its last connection.
final class ClientRequestLimiter: Sendable {
    let limit: Int
    private let stripes: [Stripe]

    /// One client address, shared by all of its connections.
    final class Client: Sendable {
        let address: String
        fileprivate let inFlight = Atomic<Int>(0)

        fileprivate init(address: String) {
            self.address = address
        }
    }

    private final class Stripe: Sendable {
        let clients = Locked<[String: (client: Client, connections: Int)]>([:])
    }

    init(limit: Int, stripes: Int = 32) {
        self.limit = limit
        self.stripes = (0..<max(1, stripes)).map { _ in Stripe() }
    }

    /// The shared counter of `address`, for a new connection (nil when there is no cap).
    /// Every registration is matched by one `unregister`.
    func register(_ address: String) -> Client? {
        guard limit > 0 else { return nil }
        return stripe(address).clients.withLock { clients in
            var entry = clients[address] ?? (Client(address: address), 0)
            entry.connections += 1
            clients[address] = entry
            return entry.client
        }
    }

    func unregister(_ client: Client) {
        stripe(client.address).clients.withLock { clients in
            guard var entry = clients[client.address] else { return }
            entry.connections -= 1
            clients[client.address] = entry.connections > 0 ? entry : nil
        }
    }

    /// Takes a slot for one request; false (and nothing taken) when the client has `limit`.
    func acquire(_ client: Client) -> Bool {
        if client.inFlight.add(1, ordering: .relaxed).newValue > limit {
            client.inFlight.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ client: Client) {
        client.inFlight.subtract(1, ordering: .relaxed)
    }

    /// Requests in flight for `address` (tests).
    func inFlight(_ address: String) -> Int {
        stripe(address).clients.withLock { $0[address]?.client.inFlight.load(ordering: .relaxed) ?? 0 }
    }

    private func stripe(_ address: String) -> Stripe {
        stripes[Int(UInt(bitPattern: address.hashValue) % UInt(stripes.count))]
    }
}
