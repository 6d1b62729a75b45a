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
    /// The prefix's 16 hex digits, written once.
    private let prefix: SIMD16<UInt8>
    private let counter = Atomic<UInt64>(0)

    init() {
        var digits = SIMD16<UInt8>()
        withUnsafeMutableBytes(of: &digits) { Self.writeHex(UInt64.random(in: 0...UInt64.max), into: $0, at: 0) }
        prefix = digits
    }

    /// 16 hex digits of prefix, '-', 16 hex digits of counter: fixed width, built in place.
    func next() -> String {
        String(unsafeUninitializedCapacity: 33) { write(into: UnsafeMutableRawBufferPointer($0)) }
    }

    /// Writes the next value straight into a head being built.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 33) { write(into: $0) }
    }

    func write(into head: inout HeadBytes) {
        head.append(reserving: 33) { write(into: $0) }
    }

    private func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let value = counter.add(1, ordering: .relaxed).newValue
        buffer.storeBytes(of: prefix, as: SIMD16<UInt8>.self)
        buffer[16] = UInt8(ascii: "-")
        Self.writeHex(value, into: buffer, at: 17)
        return 33
    }

    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xF
            buffer[offset + index] = nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57
        }
    }
}
