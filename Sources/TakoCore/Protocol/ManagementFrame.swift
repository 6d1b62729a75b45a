import Foundation

/// Turns protocol values into frames and back. A frame is one line: compact JSON followed
/// by `\n`, at most ``ManagementProtocol/maxFrameBytes`` bytes before the newline.
///
/// JSON escapes newlines inside strings, so compact output never contains a raw `\n`;
/// ``encode(_:)`` still checks, because a frame that contained one would be read as two.
public enum ManagementFrame {
    /// One line of JSON with its trailing newline. Keys are sorted so the same value always
    /// produces the same bytes.
    public static func encode(_ value: some Encodable) throws(ManagementProtocolError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw ManagementProtocolError(code: .malformedMessage, message: "could not encode a management message: \(error)")
        }
        guard !data.contains(UInt8(ascii: "\n")) else {
            throw ManagementProtocolError(code: .malformedMessage, message: "an encoded management message contains a newline")
        }
        guard data.count <= ManagementProtocol.maxFrameBytes else {
            throw ManagementProtocolError.frameTooLarge(data.count)
        }
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// An error answer: the message, and the hint on a `hint:` line of its own.
    public static func error(_ message: String, hint: String? = nil) -> Data {
        let text = hint.map { "\(message)\nhint: \($0)" } ?? message
        return (try? encode(ManagementResponse<EmptyPayload>.error(text)))
            ?? Data("{\"protocol_version\":\(ManagementProtocol.version),\"status\":\"error\",\"message\":\"internal error\"}\n".utf8)
    }

    /// The reverse of `error`: an error answer's message back as a message and its hint.
    public static func userError(fromErrorMessage text: String) -> UserError {
        let parts = text.components(separatedBy: "\nhint: ")
        return UserError(parts[0], hint: parts.count > 1 ? parts[1...].joined(separator: "\nhint: ") : nil)
    }

    /// Decodes one frame (with or without its newline).
    public static func decode<Value: Decodable>(_ type: Value.Type, from frame: Data) throws(ManagementProtocolError) -> Value {
        guard frame.count <= ManagementProtocol.maxFrameBytes + 1 else {
            throw ManagementProtocolError.frameTooLarge(frame.count)
        }
        do {
            return try JSONDecoder().decode(type, from: frame)
        } catch let error as ManagementProtocolError {
            throw error
        } catch {
            throw ManagementProtocolError(
                code: .malformedMessage,
                message: "invalid management message: \(DecodingErrorDescription.describe(error))"
            )
        }
    }
}
