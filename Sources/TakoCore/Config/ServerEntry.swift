/// One server of the user's inventory (`[[servers]]` in `~/.tako/config.toml`).
public struct ServerEntry: Hashable, Sendable, Codable {
    public static let defaultPort = 22
    public static let defaultUser = "tako"

    public var name: String
    public var host: String
    public var port: Int
    public var user: String
    public var description: String?

    public init(name: String, host: String, port: Int = defaultPort, user: String = defaultUser, description: String? = nil) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.description = description
    }

    /// Why `host` cannot be an SSH destination, or nil. A leading '-' would be read by ssh as
    /// an option, so it is refused here rather than quoted later.
    public static func problem(withHost host: String) -> String? {
        if host.isEmpty { return "is empty" }
        if host.hasPrefix("-") { return "must not start with '-'" }
        if host.utf8.count > 253 { return "is longer than 253 characters" }
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        return allowed ? nil : "may contain only letters, digits, '.', '-', '_' and ':' (IPv6)"
    }

    /// Why `user` cannot be a login name, or nil.
    public static func problem(withUser user: String) -> String? {
        if user.isEmpty { return "is empty" }
        if user.utf8.count > 32 { return "is longer than 32 characters" }
        guard let first = user.utf8.first, first == UInt8(ascii: "_") || (first >= 97 && first <= 122) else {
            return "must start with a lower-case letter or '_'"
        }
        let allowed = user.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 122) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        return allowed ? nil : "may contain only a-z, 0-9, '-' and '_'"
    }

    /// The `[[servers]]` block for this entry, as appended to the file.
    var tomlBlock: String {
        var lines = [
            "[[servers]]",
            "name = \(TOMLQuoting.quote(name))",
            "host = \(TOMLQuoting.quote(host))",
            "port = \(port)",
            "user = \(TOMLQuoting.quote(user))",
        ]
        if let description { lines.append("description = \(TOMLQuoting.quote(description))") }
        return lines.joined(separator: "\n") + "\n"
    }
}
