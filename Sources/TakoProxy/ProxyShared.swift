import NIOCore
import NIOHTTP1
import Synchronization

/// What every connection of one proxy server shares: configuration, the routing snapshot and
/// the owner's hooks. Immutable or atomic, so any event loop reads it without waiting.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let snapshots: RoutingSnapshotStore
    let statusHandler: ProxyServer.StatusHandler?
    /// ACME HTTP-01 answers, on plain HTTP listeners.
    let challenges: ChallengeResponder?
    /// The owner's page for a request no route matches (else the plain 404).
    let unmatchedHandler: ProxyServer.UnmatchedHandler?
    let requestIDs = RequestIDGenerator()
    let clientLimiter: ClientRequestLimiter

    init(
        configuration: ProxyConfiguration, snapshots: RoutingSnapshotStore, statusHandler: ProxyServer.StatusHandler?,
        challenges: ChallengeResponder?, unmatchedHandler: ProxyServer.UnmatchedHandler? = nil
    ) {
        self.challenges = challenges
        self.unmatchedHandler = unmatchedHandler
        self.configuration = configuration
        self.snapshots = snapshots
        self.statusHandler = statusHandler
        clientLimiter = ClientRequestLimiter(limit: configuration.maxRequestsPerClient)
    }
}

/// `X-Request-ID` values: a random prefix per process and a counter, so generating one costs
/// an atomic increment rather than a call into the system's random source.
final class RequestIDGenerator: Sendable {
    private let prefix: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        prefix = UInt64.random(in: 0...UInt64.max)
    }

    /// 16 hex digits of prefix, '-', 16 hex digits of counter: fixed width, built in place.
    func next() -> String {
        String(unsafeUninitializedCapacity: 33) { write(into: $0) }
    }

    /// Writes the next value straight into a head being built (the fast path).
    func write(into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 33) { raw in
            write(into: UnsafeMutableBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 33))
        }
    }

    private func write(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let value = counter.add(1, ordering: .relaxed).newValue
        Self.writeHex(prefix, into: buffer, at: 0)
        buffer[16] = UInt8(ascii: "-")
        Self.writeHex(value, into: buffer, at: 17)
        return 33
    }

    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        for index in 0..<16 {
            let nibble = Int((value >> UInt64(60 - 4 * index)) & 0xF)
            buffer[offset + index] = digits.utf8Start[nibble]
        }
    }
}
