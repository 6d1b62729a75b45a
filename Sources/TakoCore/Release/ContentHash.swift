import Crypto
import Foundation

/// A SHA-256 fingerprint of the files a release would ship, used to name releases built
/// from a dirty tree or outside git (see ``ReleaseVersion``).
///
/// For each file, in byte order of its relative path, the hash takes the path, a NUL, a
/// one-byte kind (`f` regular, `x` executable, `l` symlink) and the SHA-256 of the
/// content (a symlink's content is its target, not what it points at). Paths are part of
/// the hash so a rename changes it; the fixed-size per-file digest keeps the framing
/// unambiguous and lets large files stream through in chunks.
public enum ContentHash {
    /// Directories never shipped when there is no git to say what is ignored.
    public static let skippedDirectoryNames: Set<String> = [".git", ".tako", "node_modules"]

    /// The SHA-256, as lowercase hex, of `relativePaths` under `directory`. Paths that no
    /// longer exist (deleted but still in the git index) and directories are skipped;
    /// duplicates count once; the order of `relativePaths` does not matter.
    public static func hexDigest(of relativePaths: [String], in directory: URL) throws(ReleaseVersionError) -> String {
        let sorted = Set(relativePaths).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var hasher = SHA256()
        for path in sorted {
            guard let entry = try entry(for: path, in: directory) else { continue }
            hasher.update(data: Data(path.utf8))
            hasher.update(data: [0, entry.kind])
            hasher.update(data: Data(entry.contentDigest))
        }
        return hasher.finalize().map { byteHex($0) }.joined()
    }

    /// Every regular file and symlink under `directory`, as relative paths, skipping
    /// ``skippedDirectoryNames`` at any depth. Symlinks are listed, not followed, so a link
    /// to a directory cannot loop or pull in files from outside the project.
    public static func allFiles(in directory: URL) throws(ReleaseVersionError) -> [String] {
        var files: [String] = []
        try collect(directory: directory, prefix: "", into: &files)
        return files
    }

    private static func collect(directory: URL, prefix: String, into files: inout [String]) throws(ReleaseVersionError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw unreadable(directory.path)
        }
        for name in names {
            let url = directory.appendingPathComponent(name)
            let relative = prefix + name
            switch try fileType(atPath: url.path) {
            case .typeDirectory?:
                if !skippedDirectoryNames.contains(name) {
                    try collect(directory: url, prefix: relative + "/", into: &files)
                }
            case .typeRegular?, .typeSymbolicLink?:
                files.append(relative)
            default:
                continue  // sockets, FIFOs, devices: never shipped; vanished entries: gone.
            }
        }
    }

    private struct Entry {
        var kind: UInt8
        var contentDigest: SHA256.Digest
    }

    private static func entry(for path: String, in directory: URL) throws(ReleaseVersionError) -> Entry? {
        let url = directory.appendingPathComponent(path)
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: url.path)  // does not follow symlinks
        } catch {
            if isMissing(error) { return nil }
            throw unreadable(url.path)
        }
        switch attributes[.type] as? FileAttributeType {
        case .typeSymbolicLink?:
            do {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: url.path)
                return Entry(kind: UInt8(ascii: "l"), contentDigest: SHA256.hash(data: Data(target.utf8)))
            } catch {
                throw unreadable(url.path)
            }
        case .typeRegular?:
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            let kind = permissions & 0o111 != 0 ? UInt8(ascii: "x") : UInt8(ascii: "f")
            return Entry(kind: kind, contentDigest: try digestOfFile(at: url))
        default:
            return nil
        }
    }

    private static func digestOfFile(at url: URL) throws(ReleaseVersionError) -> SHA256.Digest {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            return hasher.finalize()
        } catch {
            throw unreadable(url.path)
        }
    }

    private static func fileType(atPath path: String) throws(ReleaseVersionError) -> FileAttributeType? {
        do {
            return try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
        } catch {
            if isMissing(error) { return nil }
            throw unreadable(path)
        }
    }

    private static func isMissing(_ error: any Error) -> Bool {
        guard let error = error as? CocoaError else { return false }
        return error.code == .fileReadNoSuchFile || error.code == .fileNoSuchFile
    }

    private static func unreadable(_ path: String) -> ReleaseVersionError {
        ReleaseVersionError(
            code: .unreadableFile,
            message: "Could not read \(path) while computing the release version.",
            hint: "Check the file's permissions, or ignore it in .gitignore if it should not ship."
        )
    }

    private static func byteHex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
