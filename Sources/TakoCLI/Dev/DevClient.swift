import Foundation
import TakoCore

/// Talks to tako-dev-server over `{TAKO_HOME}/dev-server.sock`.
struct DevClient: Sendable {
    let socket: FrameSocketClient

    init(home: TakoHome) {
        socket = FrameSocketClient(
            program: "tako-dev-server", startHint: "run tako dev in a project to start it", path: home.devSocket.path)
    }

    func hello() throws(UserError) -> DevDaemonInfo {
        try call(DevRequest(command: .hello), as: DevDaemonInfo.self, timeout: .seconds(5))
    }

    func list() throws(UserError) -> DevAppList {
        try call(DevRequest(command: .list), as: DevAppList.self, timeout: .seconds(10))
    }

    /// Starting or restarting an app waits for it to stop, so this may take a while.
    func register(_ app: DevAppConfig, key: String, session: String, truncateLog: Bool) throws(UserError) -> DevAppInfo {
        try call(
            DevRequest(command: .register, key: key, session: session, app: app, truncateLog: truncateLog), as: DevAppInfo.self,
            timeout: .seconds(120))
    }

    func attach(key: String, session: String) throws(UserError) -> DevAppInfo {
        try call(DevRequest(command: .attach, key: key, session: session), as: DevAppInfo.self, timeout: .seconds(10))
    }

    func heartbeat(key: String, session: String) throws(UserError) -> DevAppInfo {
        try call(DevRequest(command: .heartbeat, key: key, session: session), as: DevAppInfo.self, timeout: .seconds(10))
    }

    func leave(key: String, session: String) {
        _ = try? call(DevRequest(command: .leave, key: key, session: session), as: EmptyPayload.self, timeout: .seconds(5))
    }

    func restart(key: String) throws(UserError) {
        _ = try call(DevRequest(command: .restart, key: key), as: EmptyPayload.self, timeout: .seconds(120))
    }

    func shutdown() throws(UserError) {
        _ = try call(DevRequest(command: .shutdown), as: EmptyPayload.self, timeout: .seconds(10))
    }

    /// An error answer carries its hint on a `hint:` line; it becomes the error's hint again.
    private func call<Payload: Codable & Sendable>(
        _ request: DevRequest, as type: Payload.Type, timeout: Duration
    ) throws(UserError) -> Payload {
        let frame = try socket.send(request, timeout: timeout)
        let response: ManagementResponse<Payload>
        do {
            response = try ManagementFrame.decode(ManagementResponse<Payload>.self, from: frame)
        } catch {
            throw UserError(
                "tako-dev-server sent an answer this tako cannot read: \(error.message)",
                hint: "tako and tako-dev-server may be different versions; stop the daemon (tako dev --stop-daemon) and run tako dev again")
        }
        switch response.outcome {
        case .ok(let payload): return payload
        case .error(let text):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let hint = lines.last(where: { $0.hasPrefix("hint: ") }).map { String($0.dropFirst(6)) }
            let message = lines.filter { !$0.hasPrefix("hint: ") }.joined(separator: "\n")
            throw UserError(message, hint: hint)
        }
    }
}
