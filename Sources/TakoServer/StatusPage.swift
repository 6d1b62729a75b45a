import Foundation
import NIOCore
import NIOHTTP1
import TakoCore
import TakoProxy

/// The `/_tako/status` document (DESIGN §6): `{healthy, apps: [...]}`, 200 when every app is
/// healthy, else 503. Kept ready-made so the proxy answers it without waiting for anyone.
final class StatusPage: Sendable {
    private struct Document: Encodable {
        var healthy: Bool
        var apps: [AppStatus]
    }

    private let current = Locked<(healthy: Bool, body: Data)>((true, Data("{\"apps\":[],\"healthy\":true}".utf8)))

    func update(healthy: Bool, apps: [AppStatus]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let body = try? encoder.encode(Document(healthy: healthy, apps: apps)) else { return }
        current.withLock { $0 = (healthy, body) }
    }

    /// The proxy's status handler.
    var handler: ProxyServer.StatusHandler {
        { [self] in
            let (healthy, body) = current.withLock { $0 }
            return (healthy ? .ok : .serviceUnavailable, ByteBuffer(bytes: body))
        }
    }
}
