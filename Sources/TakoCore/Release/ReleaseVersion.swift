import Foundation

/// Names a release after what is being shipped, so the same tree always deploys as the
/// same version and a changed tree never reuses an old name.
///
/// - a clean git tree: the commit, `{commit8}` (e.g. `3f9c2a1b`);
/// - a git tree with changes (modified, staged, or untracked files that are not ignored):
///   `{commit8}_{contenthash8}`, because the commit alone does not describe what ships;
/// - no git (not a repository, a repository without commits, or git not installed):
///   `nogit_{contenthash8}`.
///
/// The content hash is ``ContentHash`` over the files that would ship. A version is always
/// `[A-Za-z0-9_]+`, so it is safe as one path component (`releases/{version}/`).
public enum ReleaseVersion {
    /// Derives the version of the project at `projectDirectory`.
    ///
    /// Blocks while git runs and files are hashed (typically milliseconds, longer for large
    /// trees); call it from a thread that may block, not from a latency-sensitive loop.
    public static func derive(projectDirectory: URL) throws(ReleaseVersionError) -> String {
        let version: String
        if let git = try GitTree(directory: projectDirectory) {
            let commit = try git.headCommit()
            let dirty = try git.hasChanges()
            switch (commit, dirty) {
            case let (commit?, false):
                version = String(commit.prefix(8))
            case let (commit?, true):
                let files = try git.shippedFiles()
                version = "\(commit.prefix(8))_\(try contentHash(of: files, in: projectDirectory))"
            case (nil, _):
                let files = try git.shippedFiles()
                version = "nogit_\(try contentHash(of: files, in: projectDirectory))"
            }
        } else {
            let files = try ContentHash.allFiles(in: projectDirectory)
            version = "nogit_\(try contentHash(of: files, in: projectDirectory))"
        }
        guard isValid(version) else {
            throw ReleaseVersionError(
                code: .gitFailed,
                message: "Derived an unusable release version '\(version)' for \(projectDirectory.path).",
                hint: "Check that 'git rev-parse HEAD' prints a commit hash in this project."
            )
        }
        return version
    }

    /// Whether `version` is safe as a single path component: `[A-Za-z0-9_]+`.
    public static func isValid(_ version: String) -> Bool {
        !version.isEmpty
            && version.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "_")
            }
    }

    private static func contentHash(of files: [String], in directory: URL) throws(ReleaseVersionError) -> String {
        String(try ContentHash.hexDigest(of: files, in: directory).prefix(8))
    }
}

/// Why a release version could not be derived.
///
/// Equality compares ``code`` only, so tests can match on the kind of failure.
public struct ReleaseVersionError: CodedError, Sendable {
    public struct Code: Hashable, Sendable {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// git was found and the directory is a repository, but a git command failed.
        public static let gitFailed = Code("gitFailed")
        /// A file that would ship could not be read.
        public static let unreadableFile = Code("unreadableFile")
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(code: Code, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

}
