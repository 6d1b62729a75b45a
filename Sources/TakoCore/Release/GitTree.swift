import Foundation

/// The few questions ``ReleaseVersion`` asks git about a project directory, each answered
/// by running the user's `git` (`/usr/bin/env git -C dir ...`).
///
/// Running git rather than reading `.git/` ourselves means worktrees, submodules, sparse
/// checkouts and every ignore rule behave exactly as they do for the user.
struct GitTree {
    let directory: URL

    /// A tree when `directory` is inside a git work tree; nil when it is not, or when git
    /// is not installed. Both cases fall back to hashing the files without git.
    init?(directory: URL) throws(ReleaseVersionError) {
        self.directory = directory
        guard let result = try GitCommand.run(["rev-parse", "--is-inside-work-tree"], in: directory) else {
            return nil  // git (or /usr/bin/env) could not be started.
        }
        if result.status != 0, result.standardError.contains("dubious ownership") {
            // git refuses repositories owned by another user; hashing the directory instead
            // would silently include ignored build output, so say what to do.
            throw ReleaseVersionError(
                code: .gitFailed,
                message: "git refuses to read \(directory.path): the repository belongs to another user.",
                hint: "Run 'git config --global --add safe.directory \(directory.path)' if you trust it."
            )
        }
        guard result.status == 0, String(decoding: result.standardOutput, as: UTF8.self).hasPrefix("true") else {
            return nil
        }
    }

    /// The full hash of HEAD, or nil in a repository without commits.
    func headCommit() throws(ReleaseVersionError) -> String? {
        let result = try run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        guard result.status == 0 else { return nil }
        let commit = String(decoding: result.standardOutput, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    /// Whether the project directory differs from HEAD: modified or staged files, deletions,
    /// or untracked files that are not ignored. Only this directory's subtree counts, so a
    /// change elsewhere in a monorepo does not rename this project's release.
    func hasChanges() throws(ReleaseVersionError) -> Bool {
        let result = try run(["status", "--porcelain", "-z", "--untracked-files=normal", "--", "."])
        try requireSuccess(result, command: "git status")
        return !result.standardOutput.isEmpty
    }

    /// The paths (relative to the project directory) of the files that would ship: tracked
    /// files plus untracked files that are not ignored. Deleted files still appear here;
    /// ``ContentHash`` skips paths that no longer exist.
    func shippedFiles() throws(ReleaseVersionError) -> [String] {
        let result = try run(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        try requireSuccess(result, command: "git ls-files")
        return result.standardOutput
            .split(separator: 0, omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    private func run(_ arguments: [String]) throws(ReleaseVersionError) -> GitCommand.Result {
        guard let result = try GitCommand.run(arguments, in: directory) else {
            throw ReleaseVersionError(
                code: .gitFailed,
                message: "git stopped working while reading \(directory.path).",
                hint: "Check that git is installed and on PATH."
            )
        }
        return result
    }

    private func requireSuccess(_ result: GitCommand.Result, command: String) throws(ReleaseVersionError) {
        guard result.status == 0 else {
            let detail = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ReleaseVersionError(
                code: .gitFailed,
                message: "'\(command)' failed in \(directory.path)\(detail.isEmpty ? "" : ": \(detail)")",
                hint: "Run '\(command)' in the project to see what git reports."
            )
        }
    }
}

/// Runs one git command to completion with bounded output.
///
/// stdout is read from a pipe on the calling thread until end of file; stderr goes to a
/// temporary file, so a chatty stderr can never fill a pipe buffer and deadlock the child
/// while we wait on stdout. stdin is /dev/null so git never waits for input.
enum GitCommand {
    struct Result {
        var status: Int32
        var standardOutput: Data
        var standardError: String
    }

    /// The most stdout we keep (a file list of a very large repository fits).
    static let outputLimit = 256 << 20
    /// The most stderr we keep for error messages.
    static let errorLimit = 16 << 10

    /// Returns nil when the process could not be started or git is not installed.
    static func run(_ arguments: [String], in directory: URL) throws(ReleaseVersionError) -> Result? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        // -C picks the repository; variables inherited from a git hook must not override it.
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX"] {
            environment[name] = nil
        }
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_OPTIONAL_LOCKS"] = "0"  // `git status` must not take index.lock
        environment["LC_ALL"] = "C"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice

        let outputPipe = Pipe()
        process.standardOutput = outputPipe
        let errorFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("tako-git-\(UUID().uuidString).stderr")
        let errorHandle: FileHandle? =
            FileManager.default.createFile(atPath: errorFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
            ? FileHandle(forWritingAtPath: errorFile.path) : nil
        process.standardError = errorHandle ?? FileHandle.nullDevice
        defer {
            try? errorHandle?.close()
            try? FileManager.default.removeItem(at: errorFile)
        }

        do {
            try process.run()
        } catch {
            return nil
        }
        var output = Data()
        var truncated = false
        let reader = outputPipe.fileHandleForReading
        while true {
            // Keep draining past the limit so the child never blocks on a full pipe.
            guard let chunk = try? reader.read(upToCount: 64 << 10), !chunk.isEmpty else { break }
            if output.count + chunk.count <= outputLimit {
                output.append(chunk)
            } else {
                truncated = true
            }
        }
        try? reader.close()
        process.waitUntilExit()

        var errorText = ""
        if let handle = try? FileHandle(forReadingFrom: errorFile) {
            if let data = try? handle.read(upToCount: errorLimit) { errorText = String(decoding: data, as: UTF8.self) }
            try? handle.close()
        }
        // 127: /usr/bin/env could not find git.
        if process.terminationReason == .exit, process.terminationStatus == 127 { return nil }
        if truncated {
            throw ReleaseVersionError(
                code: .gitFailed,
                message: "'git \(arguments.first ?? "")' printed more than \(outputLimit >> 20) MiB in \(directory.path).",
                hint: "Ignore generated files in .gitignore so they are not shipped."
            )
        }
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        return Result(status: status, standardOutput: output, standardError: errorText)
    }
}
