import Foundation
import TakoCore

/// A failure of the supervisor to do what it was asked: a sentence and a hint.
public typealias SupervisorError = UserError

extension UserError {
    /// A failed system call: the message, then what the system said.
    init(_ message: String, errno code: Int32) {
        self.init("\(message): \(String(cString: strerror(code)))")
    }
}
