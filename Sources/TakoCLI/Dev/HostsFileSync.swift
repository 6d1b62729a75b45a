import Foundation
import TakoCore

/// Keeps the `tako dev` block of the hosts file listing every registered dev host, for a
/// hosts file the daemon cannot write itself (`/etc/hosts` belongs to root): written through
/// `sudo tee`, after asking.
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (getuid() == 0 ? [] : ["sudo"]) + ["tee", file]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        terminal.say(terminal.paint("$ " + (process.arguments ?? []).joined(separator: " ") + " > /dev/null", .dim))
        do { try process.run() } catch {
            throw CLIError("Cannot run sudo to update \(file): \(error.localizedDescription).", hint: "Add the names to \(file) yourself.")
        }
        try? input.fileHandleForWriting.write(contentsOf: Data(updated.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("Updating \(file) failed.", hint: "Add '127.0.0.1 \(hosts.sorted().joined(separator: " "))' to \(file) yourself.")
        }
    }
}
