import Foundation

/// The user's Tako directory (`~/.tako`, or `TAKO_HOME` when set) and the files in it.
///
/// Every program resolves it through this one type so `TAKO_HOME` is honoured everywhere.
public struct TakoHome: Hashable, Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// Resolves the home from an environment: `TAKO_HOME` when set and not empty, else `$HOME/.tako`.
    public init(environment: [String: String]) {
        if let explicit = environment["TAKO_HOME"], !explicit.isEmpty {
            self.init(root: URL(fileURLWithPath: explicit, isDirectory: true).standardizedFileURL)
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            self.init(root: URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".tako", isDirectory: true))
        }
    }

    public var configFile: URL { root.appendingPathComponent("config.toml") }
    public var historyFile: URL { root.appendingPathComponent("history.toml") }
    public var keysDirectory: URL { root.appendingPathComponent("keys", isDirectory: true) }

    /// The file that holds the secrets key of one environment.
    public func keyFile(environment: String) -> URL {
        keysDirectory.appendingPathComponent(environment)
    }

    /// Creates the directory (mode 0700: it holds keys) when it is missing, e.g. after the
    /// user deleted it.
    public func ensureExists() throws {
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
