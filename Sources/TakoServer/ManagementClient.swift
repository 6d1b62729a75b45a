import Foundation
import TakoCore

/// The client end of the management socket (`tako-server ctl`).
public enum ManagementClient {
    static func socket(_ path: String) -> FrameSocketClient {
        FrameSocketClient(program: "tako-server", startHint: "start it (systemctl start tako-server), or pass --socket", path: path)
    }

    /// Sends `request` and returns the response frame.
    public static func send(_ request: ManagementRequest, path: String, timeout: Duration = .seconds(600)) throws(UserError) -> Data {
        try socket(path).send(request, timeout: timeout)
    }

    /// Sends `request` and passes every frame of the answer to `frame` until the server closes
    /// the connection (`logs` with `follow`).
    public static func stream(_ request: ManagementRequest, path: String, _ frame: (Data) throws(UserError) -> Void) throws(UserError) {
        try socket(path).stream(request, frame)
    }

    /// Whether a server answers on `path` (to refuse starting a second one on it).
    public static func isAnswering(path: String) -> Bool {
        FrameSocketClient.isAnswering(path: path)
    }

    /// Sends `command` and decodes the answer's data; an error answer becomes a `UserError`
    /// with the server's message and hint.
    public static func call<Payload: Codable & Sendable>(
        _ command: ManagementCommand, path: String, as: Payload.Type = Payload.self, timeout: Duration = .seconds(600)
    ) throws(UserError) -> Payload {
        let frame = try send(ManagementRequest(command), path: path, timeout: timeout)
        let response: ManagementResponse<Payload>
        do {
            response = try ManagementFrame.decode(ManagementResponse<Payload>.self, from: frame)
        } catch {
            throw UserError("tako-server gave an answer to '\(command.name)' that cannot be read: \(error)")
        }
        switch response.outcome {
        case .ok(let payload):
            return payload
        case .error(let text):
            throw ManagementFrame.userError(fromErrorMessage: text)
        }
    }
}
