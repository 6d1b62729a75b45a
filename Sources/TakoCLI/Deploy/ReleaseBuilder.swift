import Crypto
import Foundation
import TakoCore

/// A release archive ready to upload.
struct BuiltRelease: Sendable {
    var path: URL
    var size: Int64
    var sha256: String
}

/// Builds a release locally: the project tree (what git would keep: `.gitignore` honoured;
/// never `.git`, `.tako` or `.env*`) copied into `.tako/build/{version}/`, `[tako] build` run
/// there, and the result archived as `.tako/build/{version}.tar.gz`. Earlier builds are
/// cleared first, so `.tako/build` holds one build at a time.
struct ReleaseBuilder {
    let project: TakoProject
    let version: String
    let environment: String
    let terminal: Terminal

    var buildRoot: URL { project.directory.appendingPathComponent(".tako/build", isDirectory: true) }

    func build() async throws(UserError) -> BuiltRelease {
        let fileManager = FileManager.default
        try? fileManager.removeItem(at: buildRoot)
        let tree = buildRoot.appendingPathComponent(version, isDirectory: true)
        do {
            try fileManager.createDirectory(at: tree, withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create \(tree.path)", hint: "check that the project directory is writable")
        }
        let files = try await projectFiles()
        terminal.debug("copying \(files.count) files into \(tree.path)")
        for relative in files {
            try copy(relative, into: tree)
        }
        if let command = project.config.build {
            terminal.say("Building: \(command)")
            var environment = ProcessInfo.processInfo.environment
            environment.merge(TakoConfig.takoVariables(appName: project.appName, environment: self.environment, build: version)) { _, new in new }
            let terminal = self.terminal
            let result: ProcessRunner.Result
            do {
                result = try await ProcessRunner.run(
                    "/bin/sh", ["-c", command], directory: tree, environment: environment, onLine: { terminal.say("  " + $0) })
            } catch {
                throw UserError("cannot run the build command: \(error)", hint: "check [tako] build in tako.toml")
            }
            guard result.status == 0 else {
                let tail = result.stderr.split(separator: "\n").suffix(10).joined(separator: "\n")
                throw UserError(
                    "the build command failed (exit \(result.status))" + (tail.isEmpty ? "" : ":\n" + tail),
                    hint: "run it yourself to see why: \(command)")
            }
        }
        let archive = buildRoot.appendingPathComponent("\(version).tar.gz")
        let tar: ProcessRunner.Result
        do {
            tar = try await ProcessRunner.run("/usr/bin/env", ["tar", "-czf", archive.path, "-C", tree.path, "."])
        } catch {
            throw UserError("cannot run tar: \(error)", hint: "install tar")
        }
        guard tar.status == 0 else {
            throw UserError("archiving the release failed: \(tar.stderr.trimmingCharacters(in: .whitespacesAndNewlines))", hint: "check the disk space")
        }
        return try Self.describe(archive)
    }

    static func describe(_ archive: URL) throws(UserError) -> BuiltRelease {
        guard let handle = FileHandle(forReadingAtPath: archive.path) else {
            throw UserError("cannot read \(archive.path)", hint: "build again")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var size: Int64 = 0
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            size += Int64(chunk.count)
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        return BuiltRelease(path: archive, size: size, sha256: digest)
    }

    // MARK: Files

    /// The project's files, relative to it: git's view when it is a repository (tracked and
    /// untracked-but-not-ignored), else every file.
    private func projectFiles() async throws(UserError) -> [String] {
        let directory = project.directory
        let git = try? await ProcessRunner.run(
            "/usr/bin/env", ["git", "-C", directory.path, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        var names: [String]
        if let git, git.status == 0 {
            names = git.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        } else {
            names = []
            let enumerator = FileManager.default.enumerator(atPath: directory.path)
            while let name = enumerator?.nextObject() as? String {
                if Self.isExcluded(name) {
                    if (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.type] as? FileAttributeType) == .typeDirectory {
                        enumerator?.skipDescendants()
                    }
                    continue
                }
                names.append(name)
            }
        }
        return Array(Set(names.filter { !Self.isExcluded($0) })).sorted()
    }

    /// Never shipped: git's own files, Tako's local state, and `.env*` files anywhere.
    static func isExcluded(_ relative: String) -> Bool {
        let parts = relative.split(separator: "/")
        guard let first = parts.first else { return true }
        if first == ".git" || first == ".tako" { return true }
        return parts.contains { $0.hasPrefix(".env") }
    }

    private func copy(_ relative: String, into tree: URL) throws(UserError) {
        let source = project.directory.appendingPathComponent(relative)
        let target = tree.appendingPathComponent(relative)
        let fileManager = FileManager.default
        guard let attributes = try? fileManager.attributesOfItem(atPath: source.path) else { return }  // deleted since git listed it
        do {
            try fileManager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            switch attributes[.type] as? FileAttributeType {
            case .typeSymbolicLink:
                let destination = try fileManager.destinationOfSymbolicLink(atPath: source.path)
                try fileManager.createSymbolicLink(atPath: target.path, withDestinationPath: destination)
            case .typeRegular:
                try fileManager.copyItem(at: source, to: target)
            default:
                return  // directories come with their files; sockets and devices are skipped
            }
        } catch {
            throw UserError("cannot copy \(relative) into the build: \(error.localizedDescription)", hint: "check the file's permissions")
        }
    }
}
