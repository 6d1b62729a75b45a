import Dispatch
import Foundation
import TakoACME
import TakoCore

/// ACME server responses, through a whole certificate order: the input is the CA's answers
/// one after another, each `status byte + body`, separated by 0xFF bytes (never in JSON).
/// Every answer carries a fresh nonce and a location; the bodies decide the flow.
enum FuzzACME {
    struct Transport: ACMETransport {
        let responses: Responses

        func send(method: String, url: URL, body: Data?, contentType: String?) async throws -> ACMEResponse {
            guard let (index, record) = responses.next() else { throw CancellationError() }
            let status = [200, 201, 400, 403, 404, 500][Int(record.first ?? 0) % 6]
            let headers = [
                ("Replay-Nonce", "nonce-\(index)"), ("Location", "https://ca.test/object/\(index)"),
                ("Content-Type", "application/json"),
            ]
            return ACMEResponse(status: status, headers: headers, body: Data(record.dropFirst()))
        }
    }

    final class Responses: @unchecked Sendable {
        private let lock = NSLock()
        private var records: [ArraySlice<UInt8>]
        private var index = 0

        init(_ data: [UInt8]) {
            records = data.split(separator: 0xFF, maxSplits: 64, omittingEmptySubsequences: false)
        }

        func next() -> (Int, ArraySlice<UInt8>)? {
            lock.lock()
            defer { lock.unlock() }
            guard index < records.count else { return nil }
            index += 1
            return (index, records[index - 1])
        }
    }

    static let key = ACMEAccountKey()

    /// For libFuzzer, which calls from its own thread: waits for the order on a semaphore.
    static func run(_ data: [UInt8]) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await order(data)
            done.signal()
        }
        done.wait()
    }

    static func order(_ data: [UInt8]) async {
        let client = ACMEClient(
            directoryURL: URL(string: "https://ca.test/directory")!, key: key, transport: Transport(responses: Responses(data)),
            email: "fuzz@example.com", pollInterval: .zero)
        _ = try? await client.issue(hosts: ["app.example.com"], respond: { _, _ in }, withdraw: { _ in }, timeout: .seconds(30))
    }
}
