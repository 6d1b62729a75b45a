/// The answer to one ``ManagementRequest``:
/// `{"protocol_version":1,"status":"ok","data":...}` or
/// `{"protocol_version":1,"status":"error","message":"..."}`.
///
/// Generic over the payload so a server encodes the concrete type it has and a client
/// decodes the type its command implies (`hello` → ``HelloInfo``, `status` →
/// ``StatusReport``, `stop` → ``EmptyPayload``, ...) without a type-erased JSON value.
/// An error response decodes as any `ManagementResponse<T>`, since it has no data.
public struct ManagementResponse<Payload: Codable & Sendable>: Codable, Sendable {
    public enum Outcome: Sendable {
        case ok(Payload)
        case error(String)
    }

    public var protocolVersion: Int
    public var outcome: Outcome

    public init(_ outcome: Outcome, protocolVersion: Int = ManagementProtocol.version) {
        self.protocolVersion = protocolVersion
        self.outcome = outcome
    }

    public static func ok(_ data: Payload) -> Self { Self(.ok(data)) }
    public static func error(_ message: String) -> Self { Self(.error(message)) }

    /// The payload of an `ok` response; an `error` response throws its message as a
    /// ``ManagementProtocolError`` with code `serverError`.
    public func get() throws(ManagementProtocolError) -> Payload {
        switch outcome {
        case .ok(let data): return data
        case .error(let message): throw ManagementProtocolError(code: .serverError, message: message)
        }
    }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol_version"
        case status, data, message
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        protocolVersion = try container.decode(Int.self, forKey: .protocolVersion)
        let status = try container.decode(String.self, forKey: .status)
        switch status {
        case "ok":
            if let data = try container.decodeIfPresent(Payload.self, forKey: .data) {
                outcome = .ok(data)
            } else if let empty = EmptyPayload() as? Payload {
                outcome = .ok(empty)  // `"data"` absent or null where nothing was expected
            } else {
                throw DecodingError.keyNotFound(
                    CodingKeys.data,
                    .init(codingPath: container.codingPath, debugDescription: "an ok response needs data"))
            }
        case "error":
            outcome = .error(try container.decode(String.self, forKey: .message))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .status, in: container, debugDescription: "status must be 'ok' or 'error', not '\(status)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(protocolVersion, forKey: .protocolVersion)
        switch outcome {
        case .ok(let data):
            try container.encode("ok", forKey: .status)
            try container.encode(data, forKey: .data)
        case .error(let message):
            try container.encode("error", forKey: .status)
            try container.encode(message, forKey: .message)
        }
    }
}

extension ManagementResponse.Outcome: Equatable where Payload: Equatable {}
extension ManagementResponse.Outcome: Hashable where Payload: Hashable {}
extension ManagementResponse: Equatable where Payload: Equatable {}
extension ManagementResponse: Hashable where Payload: Hashable {}

/// The data of a response that carries none (`stop`, `delete`, `reload`, ...): `{}`.
public struct EmptyPayload: Codable, Hashable, Sendable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: EmptyKeys.self)
    }
    private enum EmptyKeys: CodingKey {}
}
