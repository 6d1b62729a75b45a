import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the entries of a release archive (`TarParser` events) under an empty directory,
/// refusing anything that would land outside it.
///
/// - Names are relative; no component is empty, `.` or `..` (a leading `./` is allowed).
/// - A symbolic link's target is relative and stays inside the release once resolved from the
///   link's own directory; nothing is ever written through a link.
/// - Files are created new (`O_EXCL`, `O_NOFOLLOW`): a name twice is an error, never an
///   overwrite. Permissions are 0644, or 0755 when any execute bit was set; owners are not
///   kept.
public struct ReleaseUnpacker {
    public static let maxEntries = 500_000
    public static let maxPathBytes = 4096

    private let root: String
    /// Relative paths of the links created so far: nothing may be created beneath them.
    private var links: Set<String> = []
    /// Each link's target, to check once every link exists that none resolves outside the
    /// release through another (`finish`).
    private var linkTargets: [String: String] = [:]
    private var directories: Set<String> = [""]
    private var file: Int32 = -1
    private var currentPath = ""
    private var entries = 0
    public private(set) var bytesWritten: Int64 = 0

    /// `root` must exist and be empty.
    public init(root: String) {
        self.root = root
    }

    public mutating func handle(_ event: TarParser.Event) throws(UserError) {
        switch event {
        case .begin(let entry): try begin(entry)
        case .data(let bytes): try writeData(bytes)
        case .end: try finishFile()
        }
    }

    /// After the last entry: every link, followed through the others the archive made,
    /// must stay inside the release. One at a time each looked inside, but a chain can leave
    /// (`a -> .` then `b -> a/..`), and a later link can change where an earlier one leads.
    public func finish() throws(UserError) {
        for (path, target) in linkTargets.sorted(by: { $0.key < $1.key }) {
            let directory = path.split(separator: "/").dropLast()
            guard Self.resolvesInside(target, from: Array(directory), links: linkTargets) else {
                throw refuse(path, "links outside the release through other links (\(target))")
            }
        }
    }

    /// Walks `target` from `directory` as the kernel would, following the archive's links
    /// (physically: `..` after a link leaves the link's target); false when a step climbs
    /// above the release or the links go round more than 40 times.
    static func resolvesInside(_ target: String, from directory: [Substring], links: [String: String]) -> Bool {
        var resolved = directory
        var pending = Array(target.split(separator: "/", omittingEmptySubsequences: true).reversed())
        var hops = 0
        while let part = pending.popLast() {
            if part == "." { continue }
            if part == ".." {
                guard !resolved.isEmpty else { return false }
                resolved.removeLast()
                continue
            }
            resolved.append(part)
            guard let next = links[resolved.joined(separator: "/")] else { continue }
            hops += 1
            guard hops <= 40, !next.hasPrefix("/") else { return false }
            resolved.removeLast()
            pending += next.split(separator: "/", omittingEmptySubsequences: true).reversed()
        }
        return true
    }

    /// Closes whatever is open (after an error, too).
    public mutating func abandon() {
        if file >= 0 { close(file) }
        file = -1
    }

    // MARK: Entries

    private mutating func begin(_ entry: TarParser.Entry) throws(UserError) {
        entries += 1
        guard entries <= Self.maxEntries else {
            throw UserError("the release has more than \(Self.maxEntries) entries", hint: "leave build caches out of the release (.gitignore)")
        }
        let components = try Self.components(entry.path)
        let path = components.joined(separator: "/")
        currentPath = path
        if path.isEmpty {
            guard entry.kind == .directory else { throw refuse(entry.path, "names the release directory itself") }
            return
        }
        try makeParents(components)
        let full = root + "/" + path
        switch entry.kind {
        case .directory:
            if directories.contains(path) { return }
            guard mkdir(full, 0o755) == 0 else {
                throw errno == EEXIST ? refuse(entry.path, "is both a file and a directory") : failure("create the directory", path)
            }
            directories.insert(path)
        case .file:
            let mode: mode_t = entry.mode & 0o111 != 0 ? 0o755 : 0o644
            file = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard file >= 0 else {
                throw errno == EEXIST ? refuse(entry.path, "appears twice") : failure("create", path)
            }
            // The umask must not take the execute bit away from a script.
            fchmod(file, mode)
        case .symlink(let target):
            try Self.checkLink(target, at: components, name: entry.path)
            guard symlink(target, full) == 0 else {
                throw errno == EEXIST ? refuse(entry.path, "appears twice") : failure("create the link", path)
            }
            links.insert(path)
            linkTargets[path] = target
        }
    }

    private mutating func writeData(_ bytes: ArraySlice<UInt8>) throws(UserError) {
        guard file >= 0 else { return }
        guard FileDescriptor.writeAll(file, bytes) else { throw failure("write", currentPath) }
        bytesWritten += Int64(bytes.count)
    }

    private mutating func finishFile() throws(UserError) {
        guard file >= 0 else { return }
        let result = close(file)
        file = -1
        if result != 0 { throw failure("write", currentPath) }
    }

    /// Creates the directories above an entry that the archive did not list first.
    private mutating func makeParents(_ components: [Substring]) throws(UserError) {
        var path = ""
        for component in components.dropLast() {
            path = path.isEmpty ? String(component) : path + "/" + component
            if links.contains(path) { throw refuse(components.joined(separator: "/"), "lies beneath the symbolic link \(path)") }
            if directories.contains(path) { continue }
            guard mkdir(root + "/" + path, 0o755) == 0 else {
                throw errno == EEXIST ? refuse(path, "is both a file and a directory") : failure("create the directory", path)
            }
            directories.insert(path)
        }
        let own = components.joined(separator: "/")
        if links.contains(own) { throw refuse(own, "appears twice") }
    }

    // MARK: Checks

    /// The name's components, without a leading `./` (or `/`-only prefix of one).
    static func components(_ name: String) throws(UserError) -> [Substring] {
        guard name.utf8.count <= maxPathBytes else { throw refuse(String(name.prefix(80)) + "…", "is too long") }
        guard !name.hasPrefix("/") else { throw refuse(name, "is an absolute path") }
        guard !name.utf8.contains(0) else { throw refuse(name, "holds a NUL byte") }
        var parts = name.split(separator: "/", omittingEmptySubsequences: false)
        while let first = parts.first, first == "." { parts.removeFirst() }
        // A directory's trailing slash leaves one empty component.
        if let last = parts.last, last.isEmpty { parts.removeLast() }
        for part in parts {
            if part.isEmpty || part == "." || part == ".." { throw refuse(name, "has a '\(part.isEmpty ? "//" : String(part))' component") }
        }
        return parts
    }

    /// A link's target must be relative and resolve (from the link's directory) inside the
    /// release.
    static func checkLink(_ target: String, at components: [Substring], name: String) throws(UserError) {
        guard !target.isEmpty, !target.hasPrefix("/") else { throw refuse(name, "links to an absolute path (\(target))") }
        var depth = components.count - 1
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            depth += part == ".." ? -1 : 1
            if depth < 0 { throw refuse(name, "links outside the release (\(target))") }
        }
    }

    private static func refuse(_ name: String, _ why: String) -> UserError {
        UserError("the release archive's entry '\(name)' \(why)", hint: "releases may only hold names inside the release directory")
    }

    private func refuse(_ name: String, _ why: String) -> UserError { Self.refuse(name, why) }

    private func failure(_ action: String, _ path: String) -> UserError {
        UserError("cannot \(action) \(root)/\(path): \(String(cString: strerror(errno)))", hint: "check the disk space and permissions of the release directory")
    }
}
