import Foundation
import TakoCore

/// A failure of the supervisor to do what it was asked, with a hint when there is one.
public struct SupervisorError: UserFacingError, Sendable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    init(_ message: String, errno code: Int32) {
        self.init("\(message): \(String(cString: strerror(code)))")
    }
}
