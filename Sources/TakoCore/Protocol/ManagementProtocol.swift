/// Constants of the management protocol: newline-delimited JSON over the host daemon's Unix
/// socket (DESIGN §8), spoken by `tako-server ctl` and the server.
public enum ManagementProtocol {
    /// Sent in every message as `protocol_version`. Bump it when a command or a response
    /// changes incompatibly; `hello` lets a client find out which version a server speaks.
    public static let version: Int = 1

    /// The largest frame (one JSON line, without its newline) either side accepts. Bounds
    /// the memory a peer can make the other allocate; large data (release archives) never
    /// travels through frames.
    public static let maxFrameBytes = 1 << 20
}

/// A management message that could not be framed, parsed or understood, or an error the
/// server reported.
///
/// Equality compares ``code`` only, so tests can write
/// `#expect(throws: ManagementProtocolError.unknownCommand) { ... }`.
public struct ManagementProtocolError: CodedError, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The `command` tag names no command this side knows.
        public static let unknownCommand = Code("unknown command")
        /// The peer speaks another `protocol_version` and the message cannot be understood.
        public static let versionMismatch = Code("protocol version mismatch")
        /// The frame is not the JSON this protocol expects.
        public static let malformedMessage = Code("malformed message")
        /// A frame is larger than ``ManagementProtocol/maxFrameBytes``.
        public static let frameTooLarge = Code("frame too large")
        /// The server answered `{"status":"error"}`; the message is the server's.
        public static let serverError = Code("server error")

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(code: Code, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }


    // Bare codes as error values, for `#expect(throws:)`.
    public static let unknownCommand = Self(code: .unknownCommand, message: "unknown command")
    public static let versionMismatch = Self(code: .versionMismatch, message: "protocol version mismatch")
    public static let malformedMessage = Self(code: .malformedMessage, message: "malformed message")
    public static let frameTooLarge = Self(code: .frameTooLarge, message: "frame too large")
    public static let serverError = Self(code: .serverError, message: "server error")

    static func unknownCommand(_ name: String) -> Self {
        Self(
            code: .unknownCommand,
            message: "unknown command '\(name)'",
            hint: "The server and the CLI may be different Tako versions; upgrade the older one."
        )
    }

    static func frameTooLarge(_ size: Int) -> Self {
        Self(
            code: .frameTooLarge,
            message: "a management message of \(size) bytes exceeds the limit of \(ManagementProtocol.maxFrameBytes) bytes"
        )
    }
}
