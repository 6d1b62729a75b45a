import Foundation
import TakoCore

/// Keeps the `tako dev` block of the hosts file listing every registered dev host, for a
/// hosts file the daemon cannot write itself (`/etc/hosts` belongs to root): written through
/// `sudo tee`, after asking. On macOS the same goes for `/etc/resolver/tako.local`, which
/// sends `*.tako.local` lookups to the daemon's DNS responder (untested here).
enum HostsFileSync {
    static func missing(_ hosts: Set<String>, in file: String) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: file) else { return hosts }
        return hosts.subtracting(HostsBlock.hosts(in: String(decoding: data, as: UTF8.self)))
    }

    /// Replaces the block with `hosts` (in place: tee keeps the file's owner and mode).
    static func write(_ hosts: Set<String>, to file: String, terminal: Terminal) throws {
        let text = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let updated = HostsBlock.update(text, hosts: hosts)
        guard updated != text else { return }
        do {
            try writeAsRoot(updated, to: file, terminal: terminal)
        } catch {
            throw CLIError("Updating \(file) failed.", hint: "Add '127.0.0.1 \(hosts.sorted().joined(separator: " "))' to \(file) yourself.")
        }
    }

    /// Writes `text` to a root-owned `file` through `sudo tee` (no sudo when already root).
    static func writeAsRoot(_ text: String, to file: String, terminal: Terminal) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (getuid() == 0 ? [] : ["sudo"]) + ["tee", file]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        terminal.say(terminal.paint("$ " + (process.arguments ?? []).joined(separator: " ") + " > /dev/null", .dim))
        try process.run()
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("sudo tee \(file) exited with \(process.terminationStatus).")
        }
    }
}

#if os(macOS)
enum ResolverFile {
    static let path = "/etc/resolver/tako.local"

    static func content(dnsPort: Int) -> String {
        "# tako dev: *.tako.local names resolve through tako-dev-server\nnameserver 127.0.0.1\nport \(dnsPort)\n"
    }

    static func isCurrent(dnsPort: Int) -> Bool {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == content(dnsPort: dnsPort)
    }

    static func install(dnsPort: Int, terminal: Terminal) throws {
        if !FileManager.default.fileExists(atPath: "/etc/resolver") {
            _ = DevTrust.run("/usr/bin/sudo", ["mkdir", "-p", "/etc/resolver"], inheritTerminal: true)
        }
        try HostsFileSync.writeAsRoot(content(dnsPort: dnsPort), to: path, terminal: terminal)
    }
}
#endif
