import Foundation
import NIOCore
import TakoCore
import TakoProxy

/// Whether a TCP port can be bound, checked by listening on it for a moment (the same
/// socket the proxy would open, so connections of an earlier daemon in TIME_WAIT do not
/// count as busy).
enum PortCheck {
    static func requireFree(host: String, port: Int) throws(UserError) {
        do {
            close(try ListenerSocket.open(host: host, port: port))
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw UserError(
                "\(host):\(port) is already in use, so tako-dev-server cannot serve HTTPS there",
                hint: "stop the program listening on it (ss -ltnp 'sport = :\(port)' shows which)")
        } catch {
            throw UserError("cannot bind \(host):\(port): \(error)")
        }
    }
}
