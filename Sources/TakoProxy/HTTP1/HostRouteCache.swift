#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client connection's memory of where its last host's requests go, when that host's
/// routes do not look at the path (`RoutingSnapshot.backend(anyPathTo:)`, the usual app).
///
/// A keep-alive connection nearly always names one host, so its next request costs a byte
/// comparison of the Host header instead of two strings, the route lookup and the app lookup
/// (together about a tenth of the fast path's instructions per request). The memory is only
/// good for the snapshot it was made from: a new snapshot (routes or instances changed) is
/// looked up again.
struct HostRouteCache {
    private var snapshot: RoutingSnapshot?
    /// The Host header as the client sent it, port and case included.
    private var host: [UInt8] = []
    private var backend: AppBackend?

    /// The backend for a request to `host` (the raw Host value) and the target `target` gives,
    /// or nil when no route matches.
    mutating func backend(
        in snapshot: RoutingSnapshot, host: UnsafeRawBufferPointer, target: () -> String
    ) -> AppBackend? {
        if let backend, snapshot === self.snapshot, Self.equal(self.host, host) { return backend }
        let hostName = String(decoding: host, as: UTF8.self)
        if let backend = snapshot.backend(anyPathTo: hostName) {
            self.snapshot = snapshot
            self.host = Array(host)
            self.backend = backend
            return backend
        }
        return snapshot.backend(host: hostName, path: target())
    }

    private static func equal(_ saved: [UInt8], _ host: UnsafeRawBufferPointer) -> Bool {
        guard saved.count == host.count else { return false }
        guard host.count > 0, let hostBytes = host.baseAddress else { return true }
        return saved.withUnsafeBytes { memcmp($0.baseAddress!, hostBytes, host.count) } == 0
    }
}
