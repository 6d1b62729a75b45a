import Foundation

/// A command as it travels: `protocol_version` beside the command's flat fields,
/// `{"protocol_version":1,"command":"stop","app":"web"}`.
///
/// Decoding accepts any version as long as the command is understood, so a server can see
/// ``isCurrentVersion`` is false and answer with a clear error (or still answer `hello`)
/// instead of failing to parse.
public struct ManagementRequest: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var command: ManagementCommand

    public init(_ command: ManagementCommand, protocolVersion: Int = ManagementProtocol.version) {
        self.protocolVersion = protocolVersion
        self.command = command
    }

    /// Whether the sender speaks this side's ``ManagementProtocol/version``.
    public var isCurrentVersion: Bool { protocolVersion == ManagementProtocol.version }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol_version"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        protocolVersion = try container.decode(Int.self, forKey: .protocolVersion)
        command = try ManagementCommand(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(protocolVersion, forKey: .protocolVersion)
        try command.encode(to: encoder)  // flat: the command's fields sit beside protocol_version
    }

    /// Parses one frame (a JSON line) into a request, turning every failure into a
    /// ``ManagementProtocolError`` a server can send back as `{"status":"error"}`.
    ///
    /// An unknown command from a peer with another `protocol_version` is reported as a
    /// version mismatch, which tells the user what to do (upgrade one side).
    public static func decode(frame: Data) throws(ManagementProtocolError) -> ManagementRequest {
        do {
            return try JSONDecoder().decode(ManagementRequest.self, from: frame)
        } catch let error as ManagementProtocolError {
            if error.code == .unknownCommand, let version = peekProtocolVersion(frame),
                version != ManagementProtocol.version
            {
                throw ManagementProtocolError(
                    code: .versionMismatch,
                    message: "\(error.message) (the client speaks management protocol version \(version), this side speaks \(ManagementProtocol.version))",
                    hint: "Upgrade the older of the CLI and tako-server so both speak the same protocol."
                )
            }
            throw error
        } catch {
            throw ManagementProtocolError(
                code: .malformedMessage,
                message: "invalid management request: \(DecodingErrorDescription.describe(error))"
            )
        }
    }

    /// The `protocol_version` of a frame, if it has a readable one.
    public static func peekProtocolVersion(_ frame: Data) -> Int? {
        struct VersionOnly: Decodable {
            var protocolVersion: Int
            enum CodingKeys: String, CodingKey { case protocolVersion = "protocol_version" }
        }
        return try? JSONDecoder().decode(VersionOnly.self, from: frame).protocolVersion
    }
}

/// Short, one-line descriptions of decoding failures (the default descriptions are long
/// multi-line dumps of internal types).
enum DecodingErrorDescription {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            return (error as? any UserFacingError)?.message ?? "\(error)"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type for field '\(path(context.codingPath))'"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value for field '\(path(context.codingPath))'"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
