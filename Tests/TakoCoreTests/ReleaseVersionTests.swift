import Foundation
import Testing

@testable import TakoCore

@Suite struct ReleaseVersionTests {
    @Test func cleanTreeIsTheShortCommit() throws {
        try withRepository { repo in
            let version = try ReleaseVersion.derive(projectDirectory: repo)
            #expect(version == (try git(["rev-parse", "--short=8", "HEAD"], in: repo)))
            #expect(isHex(version, count: 8))
        }
    }

    @Test func modifiedFileAddsAContentHashThatFollowsTheContent() throws {
        try withRepository { repo in
            let commit = try ReleaseVersion.derive(projectDirectory: repo)
            try write("changed", to: "app.js", in: repo)
            let first = try ReleaseVersion.derive(projectDirectory: repo)
            try write("changed again", to: "app.js", in: repo)
            let second = try ReleaseVersion.derive(projectDirectory: repo)

            for version in [first, second] {
                let parts = version.split(separator: "_")
                #expect(parts.count == 2 && parts[0] == commit[...] && isHex(String(parts[1]), count: 8))
            }
            #expect(first != second)
            try write("changed", to: "app.js", in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: repo) == first)
        }
    }

    @Test func stagedChangeMakesTheTreeDirty() throws {
        try withRepository { repo in
            try write("staged", to: "app.js", in: repo)
            try git(["add", "app.js"], in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: repo).contains("_"))
        }
    }

    @Test func untrackedFileCounts() throws {
        try withRepository { repo in
            let clean = try ReleaseVersion.derive(projectDirectory: repo)
            try write("new", to: "lib/new.js", in: repo)
            let dirty = try ReleaseVersion.derive(projectDirectory: repo)
            #expect(dirty.hasPrefix(clean + "_"))
        }
    }

    @Test func ignoredFileDoesNotCount() throws {
        try withRepository { repo in
            let clean = try ReleaseVersion.derive(projectDirectory: repo)
            try write("log", to: "debug.log", in: repo)
            try write("dep", to: "node_modules/dep/index.js", in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: repo) == clean)

            try write("changed", to: "app.js", in: repo)
            let dirty = try ReleaseVersion.derive(projectDirectory: repo)
            try write("log changed", to: "debug.log", in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: repo) == dirty)
        }
    }

    @Test func deletedTrackedFileIsDirtyAndSkipped() throws {
        try withRepository { repo in
            try FileManager.default.removeItem(at: repo.appendingPathComponent("app.js"))
            let version = try ReleaseVersion.derive(projectDirectory: repo)
            #expect(version.contains("_"))
            #expect(ReleaseVersion.isValid(version))
        }
    }

    @Test func repositoryWithoutCommitsIsNogit() throws {
        try withTemporaryDirectory { directory in
            try git(["init", "-q"], in: directory)
            try write("x", to: "a.txt", in: directory)
            let version = try ReleaseVersion.derive(projectDirectory: directory)
            #expect(version.hasPrefix("nogit_") && isHex(String(version.dropFirst(6)), count: 8))
        }
    }

    @Test func projectInASubdirectoryOnlyLooksAtItsOwnFiles() throws {
        try withRepository { repo in
            let project = repo.appendingPathComponent("services/api")
            try write("api", to: "services/api/main.py", in: repo)
            try git(["add", "."], in: repo)
            try git(["commit", "-q", "-m", "api"], in: repo)
            let clean = try ReleaseVersion.derive(projectDirectory: project)
            try write("elsewhere", to: "app.js", in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: project) == clean)
            try write("here", to: "services/api/main.py", in: repo)
            #expect(try ReleaseVersion.derive(projectDirectory: project).hasPrefix(clean + "_"))
        }
    }

    @Test func directoryWithoutGitIsNogitWithAContentHash() throws {
        try withTemporaryDirectory { directory in
            try write("hello", to: "index.html", in: directory)
            let version = try ReleaseVersion.derive(projectDirectory: directory)
            #expect(version.hasPrefix("nogit_"))
            #expect(isHex(String(version.dropFirst("nogit_".count)), count: 8))
        }
    }

    @Test func sameContentGivesTheSameHashInAnyDirectory() throws {
        try withTemporaryDirectory { first in
            try withTemporaryDirectory { second in
                for directory in [first, second] {
                    try write("a", to: "a.txt", in: directory)
                    try write("b", to: "nested/deeper/b.txt", in: directory)
                }
                #expect(try ReleaseVersion.derive(projectDirectory: first) == ReleaseVersion.derive(projectDirectory: second))
            }
        }
    }

    @Test func skippedDirectoriesDoNotChangeTheNogitHash() throws {
        try withTemporaryDirectory { directory in
            try write("a", to: "a.txt", in: directory)
            let before = try ReleaseVersion.derive(projectDirectory: directory)
            try write("x", to: "node_modules/x/index.js", in: directory)
            try write("{}", to: ".tako/secrets", in: directory)
            try write("ref", to: ".git/HEAD", in: directory)
            try write("y", to: "packages/web/node_modules/y.js", in: directory)
            #expect(try ReleaseVersion.derive(projectDirectory: directory) == before)
        }
    }

    @Test func renamingAFileChangesTheHash() throws {
        try withTemporaryDirectory { directory in
            try write("same", to: "a.txt", in: directory)
            let before = try ReleaseVersion.derive(projectDirectory: directory)
            try FileManager.default.moveItem(
                at: directory.appendingPathComponent("a.txt"), to: directory.appendingPathComponent("b.txt"))
            #expect(try ReleaseVersion.derive(projectDirectory: directory) != before)
        }
    }

    @Test func symlinkIsHashedByItsTarget() throws {
        try withTemporaryDirectory { directory in
            try write("same", to: "one.txt", in: directory)
            try write("same", to: "two.txt", in: directory)
            let link = directory.appendingPathComponent("current")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "one.txt")
            let before = try ReleaseVersion.derive(projectDirectory: directory)
            try FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "two.txt")
            #expect(try ReleaseVersion.derive(projectDirectory: directory) != before)
            // A dangling link or a link to a directory is hashed, not followed.
            try FileManager.default.createSymbolicLink(
                atPath: directory.appendingPathComponent("loop").path, withDestinationPath: ".")
            try FileManager.default.createSymbolicLink(
                atPath: directory.appendingPathComponent("dangling").path, withDestinationPath: "missing")
            #expect(try ReleaseVersion.derive(projectDirectory: directory).hasPrefix("nogit_"))
        }
    }

    @Test func executableBitChangesTheHash() throws {
        try withTemporaryDirectory { directory in
            try write("#!/bin/sh", to: "run.sh", in: directory)
            let before = try ReleaseVersion.derive(projectDirectory: directory)
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: directory.appendingPathComponent("run.sh").path)
            #expect(try ReleaseVersion.derive(projectDirectory: directory) != before)
        }
    }

    @Test func contentHashIgnoresInputOrderAndDuplicates() throws {
        try withTemporaryDirectory { directory in
            try write("a", to: "a.txt", in: directory)
            try write("b", to: "b.txt", in: directory)
            let forward = try ContentHash.hexDigest(of: ["a.txt", "b.txt"], in: directory)
            #expect(try ContentHash.hexDigest(of: ["b.txt", "a.txt", "a.txt", "gone.txt"], in: directory) == forward)
            #expect(isHex(forward, count: 64))
        }
    }

    @Test(arguments: [("3f9c2a1b", true), ("3f9c2a1b_0a1b2c3d", true), ("nogit_0a1b2c3d", true),
                      ("", false), ("../x", false), ("a/b", false), ("v1.2", false), ("a b", false)])
    func versionsAreSafePathComponents(version: String, valid: Bool) {
        #expect(ReleaseVersion.isValid(version) == valid)
    }

    // MARK: Helpers

    private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tako-release-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        // Resolve /tmp symlinks (macOS) so paths compare the way git prints them.
        try body(url.resolvingSymlinksInPath())
    }

    /// A repository with one commit of `app.js` and a `.gitignore`.
    private func withRepository(_ body: (URL) throws -> Void) throws {
        try withTemporaryDirectory { repo in
            try git(["init", "-q"], in: repo)
            try git(["config", "user.email", "test@example.com"], in: repo)
            try git(["config", "user.name", "Tako Test"], in: repo)
            try git(["config", "commit.gpgsign", "false"], in: repo)
            try write("console.log('hi')", to: "app.js", in: repo)
            try write("*.log\nnode_modules/\n", to: ".gitignore", in: repo)
            try git(["add", "."], in: repo)
            try git(["commit", "-q", "-m", "initial"], in: repo)
            try body(repo)
        }
    }

    private func write(_ text: String, to path: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @discardableResult
    private func git(_ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "git \(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func isHex(_ text: String, count: Int) -> Bool {
        text.count == count && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
