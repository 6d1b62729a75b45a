import Foundation

/// One owner per project: the first `tako dev` in a project holds
/// `{TAKO_HOME}/dev/locks/{app}-{hash}.lock` (a `FileLock`) and owns the app; a second one
/// finds it held and attaches to the running app instead of starting another.
public enum ProjectLock {
    /// The name that ties a project to its lock and its log: the app name and a hash of the
    /// project's absolute path (two checkouts of one app are two projects).
    public static func key(app: String, directory: URL) -> String {
        "\(app)-\(String(fnv1a(directory.standardizedFileURL.path), radix: 16).leftPadded(to: 16).prefix(8))"
    }

    public static func path(home: TakoHome, key: String) -> String {
        home.root.appendingPathComponent("dev/locks/\(key).lock").path
    }

    /// The owner's lock, or nil when another session owns the project.
    public static func claim(home: TakoHome, key: String) throws(UserError) -> FileLock? {
        try FileLock.tryAcquire(path(home: home, key: key))
    }

    /// FNV-1a, 64 bits: a stable file-name key, not a security measure.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
