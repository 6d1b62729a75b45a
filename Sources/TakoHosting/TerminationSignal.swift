import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum TerminationSignal {
    /// Returns when SIGTERM or SIGINT arrives.
    public static func wait() async {
        for await _ in stream([SIGTERM, SIGINT]) { break }
    }

    /// Every arrival of one of `numbers` (their default actions are turned off), until the
    /// consuming task stops iterating.
    public static func stream(_ numbers: [Int32]) -> AsyncStream<Int32> {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        let cancel = SourceBox(sources)
        continuation.onTermination = { _ in cancel.cancel() }
        return signals
    }
}

/// Holds the dispatch sources of a signal stream until it ends.
private final class SourceBox: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ sources: [any DispatchSourceSignal]) {
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
