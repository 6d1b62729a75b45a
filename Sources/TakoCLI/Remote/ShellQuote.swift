import Foundation

/// Quoting for the remote shell. ssh joins its command arguments into one string that the
/// server's shell parses, so every argument — app names, versions, paths, routes — is
/// single-quoted here and can only ever be one word, never shell syntax.
enum ShellQuote {
    static func quote(_ argument: String) -> String {
        if !argument.isEmpty, argument.utf8.allSatisfy({ isPlain($0) }) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func command(_ arguments: [String]) -> String {
        arguments.map(quote).joined(separator: " ")
    }

    /// Bytes that mean nothing to a POSIX shell.
    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "="),
            UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: "+"):
            true
        default:
            false
        }
    }
}
