import Foundation

/// The rules for app names, which also apply to environment and server names: they become
/// directory names on hosts, DNS labels (`{app}.tako.local`) and key file names.
public enum AppName {
    public static let maxLength = 63

    /// Why `name` is not a valid name, or nil when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maxLength { return "is longer than \(maxLength) characters" }
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLower(first) else { return "must start with a lower-case letter" }
        if let bad = bytes.first(where: { !(isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-")) }) {
            let shown = String(decoding: [bad], as: UTF8.self)
            return bad < 0x80 ? "contains '\(shown)'; only a-z, 0-9 and '-' are allowed" : "contains a character outside a-z, 0-9 and '-'"
        }
        if bytes.last == UInt8(ascii: "-") { return "must not end with '-'" }
        return nil
    }

    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    /// Turns a project name like `@acme/My_App.v2` into a valid app name (`my-app-v2`), or nil
    /// when nothing usable is left.
    public static func sanitize(_ raw: String) -> String? {
        var text = raw
        // npm scopes: "@scope/name" names the package "name".
        if text.hasPrefix("@"), let slash = text.firstIndex(of: "/") {
            text = String(text[text.index(after: slash)...])
        }
        var output: [UInt8] = []
        for byte in text.lowercased().utf8 {
            if isLower(byte) || isDigit(byte) {
                output.append(byte)
            } else if output.last != UInt8(ascii: "-") {
                output.append(UInt8(ascii: "-"))
            }
        }
        // Leading digits and hyphens cannot start a name.
        while let first = output.first, !isLower(first) { output.removeFirst() }
        if output.count > maxLength { output.removeLast(output.count - maxLength) }
        while output.last == UInt8(ascii: "-") { output.removeLast() }
        let name = String(decoding: output, as: UTF8.self)
        return isValid(name) ? name : nil
    }

    private static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
