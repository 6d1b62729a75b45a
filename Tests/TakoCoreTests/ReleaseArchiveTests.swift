import Foundation
import TakoTestSupport
import Testing

@testable import TakoCore

/// Release archives made by the system's `tar` (and hostile ones made with Python's
/// `tarfile`), read by `TarParser` and written by `ReleaseUnpacker`.
@Suite("Release archives")
struct ReleaseArchiveTests {
    let work: URL

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("tako-archive-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    /// Unpacks `archive` (a .tar) into a new `root` directory, feeding it in chunks of
    /// `chunk` bytes.
    func unpack(_ archive: URL, chunk: Int = 7919) throws -> URL {
        let root = work.appendingPathComponent("root-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
        let bytes = [UInt8](try Data(contentsOf: archive))
        var parser = TarParser()
        var unpacker = ReleaseUnpacker(root: root.path)
        defer { unpacker.abandon() }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            try parser.feed(bytes[offset..<end]) { try unpacker.handle($0) }
            offset = end
        }
        try parser.finish()
        try unpacker.finish()
        return root
    }

    func run(_ command: String) throws {
        let result = try Program.run("/bin/sh", ["-c", command], directory: work)
        guard result.status == 0 else { throw TestSupportError(message: "\(command): \(result.output)") }
    }

    func makeTree() throws -> URL {
        let tree = work.appendingPathComponent("tree")
        let long = String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 70)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("src/\(long)"), withIntermediateDirectories: true)
        try Data("print('hi')\n".utf8).write(to: tree.appendingPathComponent("main.py"))
        try Data("#!/bin/sh\necho run\n".utf8).write(to: tree.appendingPathComponent("run.sh"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tree.appendingPathComponent("run.sh").path)
        try Data().write(to: tree.appendingPathComponent("empty"))
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: tree.appendingPathComponent("src/\(long)/blob.bin"))
        try Data("ünïcode\n".utf8).write(to: tree.appendingPathComponent("src/naïve файл.txt"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("src/link").path, withDestinationPath: "../main.py")
        return tree
    }

    @Test("archives written by tar (gnu, pax and ustar formats) come back byte for byte", arguments: ["gnu", "pax", "ustar"])
    func roundTrip(format: String) throws {
        let tree = try makeTree()
        if format == "ustar" {
            // ustar cannot hold a 131-byte name in one component pair: drop the long one.
            try FileManager.default.removeItem(at: tree.appendingPathComponent("src/" + String(repeating: "d", count: 60)))
        }
        try run("tar --format=\(format) -cf release.tar -C tree .")
        for chunk in [1, 511, 512, 4096, 1 << 20] {
            let root = try unpack(work.appendingPathComponent("release.tar"), chunk: chunk)
            let diff = try Program.run("/usr/bin/env", ["diff", "-r", "--no-dereference", tree.path, root.path])
            #expect(diff.status == 0, "chunk \(chunk): \(diff.output)")
            let mode = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("run.sh").path)[.posixPermissions] as? Int
            #expect(mode == 0o755)
            let plain = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("main.py").path)[.posixPermissions] as? Int
            #expect(plain == 0o644)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("src/link").path) == "../main.py")
        }
    }

    /// Python's tarfile builds the hostile archives: `script` adds members to `t`.
    func hostile(_ script: String) throws -> URL {
        let path = work.appendingPathComponent("hostile-\(UUID().uuidString.prefix(6)).tar")
        let program = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT)
            def file(name, data=b"x", mode=0o644):
                info = tarfile.TarInfo(name); info.size = len(data); info.mode = mode; t.addfile(info, io.BytesIO(data))
            def link(name, target, kind=tarfile.SYMTYPE):
                info = tarfile.TarInfo(name); info.type = kind; info.linkname = target; t.addfile(info)
            def special(name, kind):
                info = tarfile.TarInfo(name); info.type = kind; t.addfile(info)
            def directory(name):
                info = tarfile.TarInfo(name); info.type = tarfile.DIRTYPE; info.mode = 0o755; t.addfile(info)
            \(script)
            t.close()
            """
        let result = try Program.run("/usr/bin/env", ["python3", "-c", program, path.path])
        guard result.status == 0 else { throw TestSupportError(message: result.output) }
        return path
    }

    @Test(
        "entries that would land outside the release, or are not files, directories or links, are refused",
        arguments: [
            ("file('../evil')", "'..' component"),
            ("file('a/../../evil')", "'..' component"),
            ("file('/etc/evil')", "absolute path"),
            ("file('a//b')", "'//' component"),
            ("link('l', '/etc'); file('l/passwd')", "absolute path"),
            ("link('l', '../..')", "links outside the release"),
            ("link('a/l', '../../x')", "links outside the release"),
            ("link('a', '.'); link('b', 'a/..')", "links outside the release through other links"),
            ("link('p', 'q/..'); link('q', '.')", "links outside the release through other links"),
            ("directory('d'); link('d/up', '..'); link('x', 'd/up/d/up/..')", "links outside the release through other links"),
            ("link('loop1', 'loop2'); link('loop2', 'loop1')", "links outside the release through other links"),
            ("link('l', 'sub'); directory('l/x')", "beneath the symbolic link"),
            ("directory('sub'); link('l', 'sub'); file('l/x')", "beneath the symbolic link"),
            ("file('main.py'); link('main.py', 'other')", "appears twice"),
            ("file('a'); file('a')", "appears twice"),
            ("file('a'); file('a/b')", "both a file and a directory"),
            ("file('target'); link('hard', 'target', tarfile.LNKTYPE)", "hard link"),
            ("special('dev', tarfile.CHRTYPE)", "type '3'"),
            ("special('fifo', tarfile.FIFOTYPE)", "type '6'"),
        ])
    func refusesHostileEntries(script: String, message: String) throws {
        let archive = try hostile(script)
        do {
            _ = try unpack(archive)
            Issue.record("\(script) was unpacked")
        } catch let error as UserError {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.hint != nil)
        }
        // Nothing was written beside the release directories.
        let names = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { !$0.hasPrefix("root-") && !$0.hasPrefix("hostile-") }
        #expect(names.isEmpty, "\(names)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/evil"))
    }

    @Test("a cut-short archive and a corrupt header are clear errors")
    func truncatedAndCorrupt() throws {
        let archive = try hostile("file('big', b'y' * 100000)")
        let bytes = try Data(contentsOf: archive)
        let cut = work.appendingPathComponent("cut.tar")
        try bytes.prefix(50_000).write(to: cut)
        #expect(throws: UserError.self) { _ = try unpack(cut) }

        var corrupt = bytes
        corrupt[10] ^= 0xff
        let bad = work.appendingPathComponent("bad.tar")
        try corrupt.write(to: bad)
        do {
            _ = try unpack(bad)
            Issue.record("a corrupt header was accepted")
        } catch let error as UserError {
            #expect(error.message.contains("checksum"))
        }
    }

    @Test("random bytes are an error, never a crash")
    func randomInput() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0..<3000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var parser = TarParser()
            _ = try? parser.feed(bytes[...]) { _ in }
        }
    }
}
