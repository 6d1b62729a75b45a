import Foundation

/// Every parser that reads outside input, as a fuzz target: `tako-fuzz` (libFuzzer) runs one,
/// `FuzzCorpusTests` replays every committed seed and regression through all of them. A
/// target returns normally for any input; a crash, a sanitizer report or a broken property
/// (`FuzzFailure.check`) is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// tako.toml and server-config.toml: TOML parsing and the config validation.
    case toml
    /// Route patterns, the route table and matching.
    case routes
    /// Management-socket frames: the frame decoder and request decoding (round trip).
    case frames
    /// The proxy's HTTP/1.1 request handling, bytes in through the real client pipeline.
    case http1
    /// The proxy's HTTP/2 framing and streams, bytes in after the preface.
    case http2
    /// The HTTPS listener's ClientHello reader (SNI), before TLS.
    case clienthello
    /// ACME server responses, through a whole certificate order.
    case acme
    /// The dev daemon's DNS responder.
    case dns
    /// Release archives: the tar parser and the unpacker's path checks.
    case tar

    public func run(_ data: [UInt8]) {
        switch self {
        case .toml: FuzzTOML.run(data)
        case .routes: FuzzRoutes.run(data)
        case .frames: FuzzFrames.run(data)
        case .http1: FuzzHTTP1.run(data)
        case .http2: FuzzHTTP2.run(data)
        case .clienthello: FuzzClientHello.run(data)
        case .acme: FuzzACME.run(data)
        case .dns: FuzzDNS.run(data)
        case .tar: FuzzTar.run(data)
        }
    }
}

extension FuzzTarget {
    /// `run` for callers on Swift's concurrency pool (tests), which must not block a thread
    /// waiting for async work (the ACME client is an actor).
    public func runAsync(_ data: [UInt8]) async {
        if self == .acme { return await FuzzACME.order(data) }
        run(data)
    }
}

/// A property a target checks beyond "does not crash".
enum FuzzFailure {
    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() { fatalError("fuzz property broken: \(message())") }
    }
}

extension Array where Element == UInt8 {
    /// The input cut into pieces at positions its first byte picks: parsers that take input in
    /// chunks must not depend on where the chunks end.
    func chunked() -> [ArraySlice<UInt8>] {
        guard let first = self.first else { return [] }
        let step = Swift.max(1, Int(first % 17))
        var pieces: [ArraySlice<UInt8>] = []
        var start = 1
        var size = step
        while start < count {
            let end = Swift.min(count, start + size)
            pieces.append(self[start..<end])
            start = end
            size = size * 2 + 1
        }
        return pieces
    }
}
