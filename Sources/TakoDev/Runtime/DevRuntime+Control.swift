import Foundation
import TakoCore
import TakoHosting

extension DevRuntime: FrameResponder {
    /// Answers one control-socket request (DevRequest → ManagementResponse frame).
    public func respond(to frame: Data) async -> Data {
        let request: DevRequest
        do {
            request = try ManagementFrame.decode(DevRequest.self, from: frame)
        } catch {
            return ManagementFrame.error(error.message, hint: "tako and tako-dev-server may be different versions; run tako dev again")
        }
        do throws(UserError) {
            switch request.command {
            case .hello:
                return try Self.ok(hello)
            case .register:
                guard let app = request.app, let key = request.key, let session = request.session else {
                    throw UserError("register needs app, key and session")
                }
                return try Self.ok(try await register(app, key: key, session: session, truncateLog: request.truncateLog ?? false))
            case .attach:
                return try Self.ok(try attach(key: try Self.required(request.key), session: try Self.required(request.session)))
            case .heartbeat:
                return try Self.ok(try heartbeat(key: try Self.required(request.key), session: try Self.required(request.session)))
            case .leave:
                leave(key: try Self.required(request.key), session: try Self.required(request.session))
                return try Self.ok(EmptyPayload())
            case .restart:
                try await restart(key: try Self.required(request.key))
                return try Self.ok(EmptyPayload())
            case .list:
                return try Self.ok(list())
            case .shutdown:
                shutdownRequested()
                return try Self.ok(EmptyPayload())
            }
        } catch {
            return ManagementFrame.error(error.message, hint: error.hint)
        }
    }

    private static func ok(_ payload: some Codable & Sendable) throws(UserError) -> Data {
        do {
            return try ManagementFrame.encode(ManagementResponse.ok(payload))
        } catch {
            throw UserError(error.message)
        }
    }

    private static func required(_ value: String?) throws(UserError) -> String {
        guard let value, !value.isEmpty else { throw UserError("the request lacks its project key or session") }
        return value
    }
}
